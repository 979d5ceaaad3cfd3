// Who is logged in: the token (sessionStorage) and the caller's profile.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, ApiError, onUnauthorized, session, unwrap, type Profile } from "./api";

type SessionState = {
  profile: Profile | null;
  loading: boolean;
  login: (username: string, password: string) => Promise<void>;
  logout: () => void;
  refresh: () => Promise<void>;
};

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [profile, setProfile] = useState<Profile | null>(null);
  const [loading, setLoading] = useState(Boolean(session.token()));

  const refresh = useCallback(async () => {
    if (!session.token()) {
      setProfile(null);
      setLoading(false);
      return;
    }
    try {
      setProfile(await unwrap(api.GET("/api/internal/profile")));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) session.clear();
      setProfile(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    return onUnauthorized(() => setProfile(null));
  }, [refresh]);

  const login = useCallback(
    async (username: string, password: string) => {
      const { data, error, response } = await api.POST("/api/auth", {
        body: { username, password },
      });
      if (error !== undefined || !data?.token) {
        const message = (error as { message?: string } | undefined)?.message;
        throw new ApiError(message ?? "login failed", response.status);
      }
      session.set(data.token);
      setLoading(true);
      await refresh();
    },
    [refresh],
  );

  const logout = useCallback(() => {
    session.clear();
    setProfile(null);
  }, []);

  return (
    <SessionContext.Provider value={{ profile, loading, login, logout, refresh }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}

/** The logged-in profile (pages behind the login only). */
export function useProfile(): Profile {
  const { profile } = useSession();
  if (!profile) throw new Error("no profile: page rendered without login");
  return profile;
}
