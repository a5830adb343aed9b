// Formats errors once for every Apollo Server of the project (gateway and subgraphs): our coded
// errors and GraphQL's own request errors pass through; anything else is logged and masked.
import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { AppError, ERROR_CODES } from "../lib/errors";
import type { Logger } from "./logger";

/** Codes that describe the caller's mistake: their messages are safe to show as they are. */
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

/**
 * Formats errors once for every Apollo Server of the project: our coded errors and GraphQL's
 * own request errors pass through; anything else is logged and masked.
 */
export function formatErrorFor(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return { ...formatted, message: original.message, extensions: { code: original.code } };
    const code = formatted.extensions?.code;
    if (isClientErrorCode(code)) return { ...formatted, extensions: { code } };
    if (code === "INTERNAL_SERVER_ERROR" && formatted.message === INTERNAL_MESSAGE) return formatted;
    log.error({ err: original, path: formatted.path, code }, "unexpected error while resolving");
    return { message: INTERNAL_MESSAGE, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
  };
}

const INTERNAL_MESSAGE = "internal server error";
