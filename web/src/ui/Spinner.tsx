// A loading indicator that screen readers announce.
export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <div className="spinner" role="status" aria-label={label}>
      <span className="spinner-dot" />
    </div>
  );
}
