// How every failure looks: one readable sentence and a way forward (retry, or log in).
import { describeError } from "../errors";
import { Link, paths, useCurrentPath } from "../router";

export function ErrorMessage({ error, onRetry, compact = false }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const problem = describeError(error);
  const here = useCurrentPath();
  return (
    <div className={compact ? "problem problem-compact" : "problem"} role="alert" data-kind={problem.kind}>
      <p>{problem.message}</p>
      <div className="problem-actions">
        {problem.kind === "signed-out" ? (
          <Link className="button" to={paths.login(here)}>
            Log in
          </Link>
        ) : null}
        {onRetry && problem.retryable ? (
          <button type="button" className="button" onClick={onRetry}>
            Retry
          </button>
        ) : null}
        {problem.kind === "outdated" ? (
          <button type="button" className="button" onClick={() => location.reload()}>
            Reload
          </button>
        ) : null}
      </div>
    </div>
  );
}
