// Subscriptions over one WebSocket to the gateway's /graphql (graphql-ws, the protocol it
// speaks): the token in connection_init, read afresh at every (re)connection; reconnection with
// capped, jittered backoff; and the connection's state, so a screen can poll while it is down.
// A socket opens only while a subscription runs. A server that refuses the token (close 4403:
// bad, expired or logged out) makes the app forget it, as a 401 over HTTP does.
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import type { TokenStore } from "../auth/token-store";
import { LIVE_LAZY_CLOSE_MS, LIVE_RETRY_FIRST_MS, LIVE_RETRY_MAX_MS } from "../config";

/** `connecting` until the server acknowledged the token; `offline` while it cannot be reached or refuses. */
export type LiveState = "idle" | "connecting" | "live" | "offline";

export interface Live {
  readonly link: GraphQLWsLink;
  state(): LiveState;
  /** For useSyncExternalStore: called on every change of state. */
  subscribe(listener: () => void): () => void;
  /** Closes the socket so it reconnects with the current token (after logging in or out). */
  restart(): void;
}

/** graphql-ws's code for "the token is not (or no longer) good". */
const FORBIDDEN = 4403;
/** A close the client asks for itself to reconnect at once (graphql-ws does not treat 4xxx of its own as fatal). */
const RESTART = 4205;

/** ws: or wss: for the page's own origin. */
export function liveUrl(path: string, location: Pick<Location, "href">): string {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function createLive(tokens: TokenStore, url: string, webSocketImpl?: unknown): Live {
  let state: LiveState = "idle";
  const listeners = new Set<() => void>();
  const set = (next: LiveState) => {
    if (next === state) return;
    state = next;
    listeners.forEach((listener) => listener());
  };
  let socket: WebSocket | undefined;
  let tokenSent: string | null = null;

  const client = createClient({
    url,
    webSocketImpl,
    lazy: true,
    lazyCloseTimeout: LIVE_LAZY_CLOSE_MS,
    connectionParams: () => {
      tokenSent = tokens.get();
      return tokenSent ? { authorization: `Bearer ${tokenSent}` } : {};
    },
    retryAttempts: Infinity,
    // Network failures too: a phone going through a tunnel comes back.
    shouldRetry: () => true,
    retryWait: (retries) =>
      new Promise((resolve) => {
        const ceiling = Math.min(LIVE_RETRY_MAX_MS, LIVE_RETRY_FIRST_MS * 2 ** retries);
        setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2));
      }),
    on: {
      connecting: () => set("connecting"),
      opened: (opened) => {
        socket = opened as WebSocket;
      },
      connected: () => set("live"),
      closed: (event) => {
        socket = undefined;
        const code = (event as { code?: number } | undefined)?.code;
        if (code === FORBIDDEN && tokenSent) tokens.clearIf(tokenSent);
        // Closed on purpose with nothing left to run: idle; anything else: offline until it reconnects.
        set(code === 1000 ? "idle" : "offline");
      },
    },
  });

  return {
    link: new GraphQLWsLink(client),
    state: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    restart() {
      if (socket?.readyState === WebSocket.OPEN) socket.close(RESTART, "Client Restart");
    },
  };
}
