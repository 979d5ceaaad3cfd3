export default function ScanningPage() {
  return <h1>ScanningPage</h1>;
}
