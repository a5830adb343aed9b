// The end of a paged list: asks for the next page when it scrolls into view (or on a click),
// and shows why it could not.
import { useEffect, useRef } from "react";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

export function LoadMore({
  hasMore,
  loading,
  error,
  onLoadMore,
}: {
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  onLoadMore: () => void;
}) {
  const sentinel = useRef<HTMLDivElement>(null);
  const latest = useRef(onLoadMore);
  latest.current = onLoadMore;
  const armed = hasMore && !loading && !error;

  useEffect(() => {
    const element = sentinel.current;
    if (!element || !armed || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) latest.current();
      },
      { rootMargin: "200px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [armed]);

  if (error) return <ErrorMessage error={error} onRetry={onLoadMore} compact />;
  if (loading) return <Spinner label="Loading more" />;
  if (!hasMore) return null;
  return (
    <div ref={sentinel} className="load-more">
      <button type="button" className="button button-quiet" onClick={onLoadMore}>
        Show more
      </button>
    </div>
  );
}
