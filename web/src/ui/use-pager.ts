// Paging one connection (`nodes nextCursor hasMore`): asks for the page after the last cursor,
// one at a time, and keeps the failure to show with a retry.
import { useCallback, useState } from "react";

export interface Pager {
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  onLoadMore(): void;
}

export function usePager(
  connection: { nextCursor?: string | null; hasMore: boolean } | null | undefined,
  fetchPage: (after: string) => Promise<unknown>,
): Pager {
  const [state, setState] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const cursor = connection?.nextCursor;
  const onLoadMore = useCallback(() => {
    if (!cursor || state.loading) return;
    setState({ loading: true, error: null });
    fetchPage(cursor).then(
      () => setState({ loading: false, error: null }),
      (error: unknown) => setState({ loading: false, error }),
    );
  }, [cursor, state.loading, fetchPage]);
  return { hasMore: Boolean(connection?.hasMore && cursor), loading: state.loading, error: state.error, onLoadMore };
}
