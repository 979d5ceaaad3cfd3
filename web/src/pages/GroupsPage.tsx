export default function GroupsPage() {
  return <h1>GroupsPage</h1>;
}
