// The legacy answer shape: `{status_code, status_msg, ...}` with 0 for success, and a non-zero
// code per kind of failure (HTTP-like numbers, so a log reader knows them at a glance).
import { AppError, type ErrorCode } from "../lib/errors";

export type Envelope = { status_code: number; status_msg: string } & Record<string, unknown>;

export const STATUS_CODES: Record<ErrorCode | "METHOD_NOT_ALLOWED", number> = {
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RATE_LIMITED: 429,
  INTERNAL_SERVER_ERROR: 500,
  UNAVAILABLE: 503,
};

export function success(body: Record<string, unknown> = {}): Envelope {
  return { status_code: 0, status_msg: "success", ...body };
}

export function failure(code: keyof typeof STATUS_CODES, message: string): Envelope {
  return { status_code: STATUS_CODES[code], status_msg: message };
}

type GraphQLErrorLike = { message: string; extensions?: { code?: string; retryAfter?: unknown } };

/**
 * Maps a GraphQL answer's errors (ours or Apollo's) to the legacy envelope. When part of the
 * stack is unavailable that is what the app hears (503, retry), whatever else failed with it.
 */
export function failureFromGraphQL(errors: readonly GraphQLErrorLike[]): Envelope {
  const error = errors.find((candidate) => candidate.extensions?.code === "UNAVAILABLE") ?? errors[0]!;
  const code = error.extensions?.code;
  // Whatever an internal error says stays in the logs of the service that had it.
  if (code === "INTERNAL_SERVER_ERROR") return failure("INTERNAL_SERVER_ERROR", "internal server error");
  if (code === "RATE_LIMITED" && typeof error.extensions?.retryAfter === "number") {
    return { ...failure("RATE_LIMITED", error.message), retry_after: error.extensions.retryAfter };
  }
  if (code && code in STATUS_CODES) return failure(code as ErrorCode, error.message);
  if (code === "GRAPHQL_VALIDATION_FAILED" || code === "BAD_REQUEST") return failure("BAD_USER_INPUT", error.message);
  if (code === "SUBGRAPH_UNAVAILABLE") return failure("UNAVAILABLE", "service temporarily unavailable, please retry");
  return failure("INTERNAL_SERVER_ERROR", "internal server error");
}

export function failureFromError(error: unknown): Envelope | undefined {
  if (!(error instanceof AppError)) return undefined;
  const envelope = failure(error.code, error.message);
  return typeof error.details.retryAfter === "number" ? { ...envelope, retry_after: error.details.retryAfter } : envelope;
}
