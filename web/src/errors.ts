// Turns whatever went wrong (a GraphQL error with its code, an HTTP status, a dead connection)
// into one sentence a person can act on; the UI shows it with a retry, never a blank page.
import { CombinedGraphQLErrors, ServerError, ServerParseError } from "@apollo/client/errors";

export type ErrorKind = "offline" | "unavailable" | "server" | "signed-out" | "refused" | "not-found" | "rate-limited" | "outdated";

export interface Problem {
  kind: ErrorKind;
  message: string;
  /** Whether trying the same thing again may work (a bad input will not). */
  retryable: boolean;
}

/** Codes whose messages the gateway writes for people ("wrong username or password"). */
const SHOWN_AS_SENT: Record<string, ErrorKind> = {
  BAD_USER_INPUT: "refused",
  FORBIDDEN: "refused",
  NOT_FOUND: "not-found",
  UNAUTHENTICATED: "signed-out",
};

const sentence = (text: string) => {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

function fromGraphQL(errors: CombinedGraphQLErrors): Problem {
  const first = errors.errors[0];
  const code = String(first?.extensions?.code ?? "");
  const kind = SHOWN_AS_SENT[code];
  if (kind && first?.message) return { kind, message: sentence(first.message), retryable: kind === "not-found" };
  if (code === "RATE_LIMITED")
    return { kind: "rate-limited", message: "Too many requests. Wait a moment, then try again.", retryable: true };
  if (code === "GRAPHQL_VALIDATION_FAILED" || code === "GRAPHQL_PARSE_FAILED") {
    return { kind: "outdated", message: "This page is out of date with the server. Reload it.", retryable: false };
  }
  return { kind: "server", message: "Something went wrong on the server. Try again.", retryable: true };
}

function fromStatus(status: number): Problem {
  if (status === 401) return { kind: "signed-out", message: "Your session has ended. Log in again.", retryable: false };
  if (status === 413) return { kind: "refused", message: "That file is too large.", retryable: false };
  if (status === 429) return { kind: "rate-limited", message: "Too many requests. Wait a moment, then try again.", retryable: true };
  if (status === 502 || status === 503 || status === 504) {
    return { kind: "unavailable", message: "The service is unavailable right now. Try again in a moment.", retryable: true };
  }
  if (status >= 500) return { kind: "server", message: `The server had a problem (HTTP ${status}). Try again.`, retryable: true };
  return { kind: "refused", message: `The server refused the request (HTTP ${status}).`, retryable: true };
}

export function describeError(error: unknown, online = typeof navigator === "undefined" || navigator.onLine): Problem {
  if (CombinedGraphQLErrors.is(error)) return fromGraphQL(error);
  if (ServerError.is(error)) return fromStatus(error.statusCode);
  if (ServerParseError.is(error))
    return { kind: "server", message: "The server sent an answer this app cannot read. Try again.", retryable: true };
  if (!online) return { kind: "offline", message: "You are offline. Reconnect, then try again.", retryable: true };
  // fetch and XMLHttpRequest both fail with a TypeError when no answer arrives at all.
  if (error instanceof TypeError)
    return { kind: "unavailable", message: "Cannot reach the server. Check your connection and try again.", retryable: true };
  return { kind: "server", message: "Something went wrong. Try again.", retryable: true };
}
