// The application's routes, behind the login, inside one layout. The pages are in the main
// bundle: lazy pages made every first visit wait for a chunk and for React's Suspense reveal
// throttle (~300 ms measured); only plotly.js, the largest part, loads on first use.
import { Navigate, NavLink, Route, Routes, useLocation } from "react-router-dom";
import { Status } from "./components/Status";
import { LoginPage } from "./pages/LoginPage";
import { useSession } from "./session";

import DashboardPage from "./pages/DashboardPage";
import ScanningPage from "./pages/ScanningPage";
import SourcePage from "./pages/SourcePage";
import SourcesPage from "./pages/SourcesPage";
import AlertsPage from "./pages/AlertsPage";
import GroupsPage from "./pages/GroupsPage";
import GroupPage from "./pages/GroupPage";
import FilterPage from "./pages/FilterPage";
import ProfilePage from "./pages/ProfilePage";

const NAVIGATION: [string, string][] = [
  ["/", "Dashboard"],
  ["/candidates", "Scanning"],
  ["/sources", "Sources"],
  ["/alerts", "Alerts"],
  ["/groups", "Groups"],
  ["/profile", "Profile"],
];

export function App() {
  const { profile, loading, logout } = useSession();
  const location = useLocation();
  if (loading) return <Status loading />;
  if (!profile) {
    return location.pathname === "/login" ? (
      <LoginPage />
    ) : (
      <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />
    );
  }
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="skymesh home">
          skymesh
        </NavLink>
        <nav aria-label="Main">
          <ul>
            {NAVIGATION.map(([path, label]) => (
              <li key={path}>
                <NavLink to={path} end={path === "/"}>
                  {label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title="logged in as">{profile.username}</span>
          <button type="button" className="link" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route path="/candidates" element={<ScanningPage />} />
          <Route path="/source/:objId" element={<SourcePage />} />
          <Route path="/sources" element={<SourcesPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/groups" element={<GroupsPage />} />
          <Route path="/group/:groupId" element={<GroupPage />} />
          <Route path="/filter/:filterId" element={<FilterPage />} />
          <Route path="/profile" element={<ProfilePage />} />
          <Route path="*" element={<Status error={new Error("No such page.")} />} />
        </Routes>
      </main>
    </div>
  );
}
