// Formats errors once for every Apollo Server of the project (gateway and subgraphs): our coded
// errors and GraphQL's own request errors pass through; an unreachable or slow dependency is
// UNAVAILABLE; anything else is logged and masked.
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { AppError, ERROR_CODES } from "../lib/errors";
import { isInfrastructureFailure } from "../platform/failures";
import type { Logger } from "../platform/logger";

/** Codes that describe the caller's mistake or a coded condition: their messages are safe to show as they are. */
const CLIENT_ERROR_CODES = new Set<string>([
  ...ERROR_CODES.filter((code) => code !== "INTERNAL_SERVER_ERROR"),
  // Apollo Server's own request errors.
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

export function isClientErrorCode(code: unknown): boolean {
  return typeof code === "string" && CLIENT_ERROR_CODES.has(code);
}

const INTERNAL_MESSAGE = "internal server error";

/** An http-errors style error meant for the client (graphql-upload-minimal's malformed or abandoned uploads). */
function isClientHttpError(error: unknown): boolean {
  const { expose, status } = (error ?? {}) as { expose?: unknown; status?: unknown };
  return expose === true && typeof status === "number" && status >= 400 && status < 500;
}
function isUncodedRequestError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError) || error.path || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
const UNAVAILABLE_MESSAGE = "service temporarily unavailable, please retry";

/**
 * Formats errors once for every Apollo Server of the project: our coded errors and GraphQL's
 * own request errors pass through; a dependency that is down or slow (the gateway's
 * SUBGRAPH_UNAVAILABLE included) is UNAVAILABLE; anything else is logged and masked.
 */
export function formatErrorFor(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = unwrapResolverError(error);
    // A scalar that refused a literal during validation: its own code (BAD_USER_INPUT) says more.
    if (
      formatted.extensions?.code === "GRAPHQL_VALIDATION_FAILED" &&
      original instanceof GraphQLError &&
      original.originalError instanceof AppError
    ) {
      original = original.originalError;
    }
    if (original instanceof AppError)
      return { ...formatted, message: original.message, extensions: { ...original.details, code: original.code } };
    const code = formatted.extensions?.code;
    if (isClientErrorCode(code)) {
      const retryAfter = formatted.extensions?.retryAfter;
      return { ...formatted, extensions: { code, ...(retryAfter !== undefined && { retryAfter }) } };
    }
    if (isClientHttpError(original)) {
      // A request the client broke (e.g. hung up mid-upload): its fault, said plainly.
      log.info({ err: original, path: formatted.path }, "request refused as malformed");
      return { message: (original as Error).message, path: formatted.path, extensions: { code: "BAD_USER_INPUT" } };
    }
    if (isUncodedRequestError(original)) {
      // Apollo Server refused the request before running it, with a 4xx but no code (a persisted
      // query whose hash does not match its text): the client's mistake, not ours.
      log.info({ reason: original.message }, "request refused as malformed");
      return { message: original.message, extensions: { code: "BAD_REQUEST" } };
    }
    if (code === "SUBGRAPH_UNAVAILABLE" || isInfrastructureFailure(original)) {
      log.warn({ err: original, path: formatted.path, code }, "a dependency is unavailable");
      return { message: UNAVAILABLE_MESSAGE, path: formatted.path, extensions: { code: "UNAVAILABLE" } };
    }
    if (code === "INTERNAL_SERVER_ERROR" && formatted.message === INTERNAL_MESSAGE) return formatted;
    log.error({ err: original, path: formatted.path, code }, "unexpected error while resolving");
    return { message: INTERNAL_MESSAGE, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}
