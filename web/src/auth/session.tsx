// Who is using the app: the token (from the token store) and the viewer it names. Logging in,
// out, or losing the token to a 401 resets the cache, since likes and follows are per viewer.
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useSyncExternalStore, type ReactNode } from "react";
import { VIEWER_RETRY_MS } from "../config";
import { graphql } from "../gql";
import type { ViewerQuery } from "../gql/graphql";
import type { TokenStore } from "./token-store";

export const ViewerDocument = graphql(`
  query Viewer {
    me {
      id
      name
      avatar
    }
  }
`);

const LogoutDocument = graphql(`
  mutation Logout {
    logout
  }
`);

export type Viewer = NonNullable<ViewerQuery["me"]>;

export interface Session {
  token: string | null;
  viewer: Viewer | null;
  /** True while a token is known but the viewer it names is not yet. */
  loading: boolean;
  /** Why the viewer could not be read (the server is down, say); `retry` asks again. */
  error: unknown;
  retry(): void;
  signIn(token: string): void;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ tokens, children }: { tokens: TokenStore; children: ReactNode }) {
  const client = useApolloClient();
  const token = useSyncExternalStore(tokens.subscribe, tokens.get);
  const { data, loading, error, refetch } = useQuery(ViewerDocument, { skip: !token });
  const [logout] = useMutation(LogoutDocument);

  const previous = useRef(token);
  useEffect(() => {
    if (previous.current === token) return;
    previous.current = token;
    // Another person's view of the same videos: drop it all and ask again for what is on screen.
    void client.resetStore().catch(() => undefined);
  }, [client, token]);

  const failed = Boolean(token && error);
  useEffect(() => {
    if (!failed) return;
    const retry = () => void refetch().catch(() => undefined);
    const timer = setInterval(retry, VIEWER_RETRY_MS);
    window.addEventListener("online", retry);
    return () => {
      clearInterval(timer);
      window.removeEventListener("online", retry);
    };
  }, [failed, refetch]);

  const signOut = useCallback(async () => {
    try {
      await logout();
    } catch {
      // Ending the session locally is what matters; a dead server keeps an expiring token.
    }
    tokens.clear();
  }, [logout, tokens]);

  const session = useMemo<Session>(
    () => ({
      token,
      viewer: token ? (data?.me ?? null) : null,
      loading: Boolean(token) && loading && !data?.me,
      error: token ? (error ?? null) : null,
      retry: () => void refetch().catch(() => undefined),
      signIn: (next) => tokens.set(next),
      signOut,
    }),
    [token, data, loading, error, refetch, signOut, tokens],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
