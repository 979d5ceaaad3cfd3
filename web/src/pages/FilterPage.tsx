export default function FilterPage() {
  return <h1>FilterPage</h1>;
}
