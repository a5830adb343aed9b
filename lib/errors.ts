// Errors as values with a code: thrown by data layers, formatted once at each edge
// (GraphQL `extensions.code`, legacy `status_code` + `status_msg`).
import { GraphQLError } from "graphql";

export const ERROR_CODES = [
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  /** Too many attempts; `extensions.retryAfter` says in how many seconds to try again. */
  "RATE_LIMITED",
  /** Refused before execution: the request would cost or return more than the limits allow. */
  "QUERY_TOO_COMPLEX",
  /** A part of the system (a subgraph, the database, Redis, storage) is unreachable or too slow: retry later. */
  "UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** More extensions a client may read (e.g. `retryAfter`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...details, code } });
    this.name = "AppError";
  }
}

export const badInput = (message: string) => new AppError("BAD_USER_INPUT", message);
export const unauthenticated = (message = "login required") => new AppError("UNAUTHENTICATED", message);
export const forbidden = (message: string) => new AppError("FORBIDDEN", message);
export const notFound = (message: string) => new AppError("NOT_FOUND", message);
export const unavailable = (message = "service temporarily unavailable, please retry") => new AppError("UNAVAILABLE", message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError("RATE_LIMITED", message, { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) });
