// Errors as values with a code: thrown by data layers, formatted once at each edge
// (GraphQL `extensions.code`, legacy `status_code` + `status_msg`).
import { GraphQLError } from "graphql";

export const ERROR_CODES = [
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "RATE_LIMITED",
  "INTERNAL_SERVER_ERROR",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message, { extensions: { code } });
    this.name = "AppError";
  }
}

export const badInput = (message: string) => new AppError("BAD_USER_INPUT", message);
export const unauthenticated = (message = "login required") => new AppError("UNAUTHENTICATED", message);
export const forbidden = (message: string) => new AppError("FORBIDDEN", message);
export const notFound = (message: string) => new AppError("NOT_FOUND", message);
