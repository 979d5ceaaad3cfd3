// Loading and error states, announced to screen readers.

export function Status({ loading, error }: { loading?: boolean; error?: Error }) {
  if (error) {
    return (
      <p className="status error" role="alert">
        {error.message}
      </p>
    );
  }
  if (loading) {
    return (
      <p className="status" role="status" aria-live="polite">
        Loading…
      </p>
    );
  }
  return null;
}
