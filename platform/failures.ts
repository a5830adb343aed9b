// Tells a failure of the infrastructure (a database, Redis or storage that is unreachable, too
// slow or shutting down, a deadline that passed) from a bug: the first is UNAVAILABLE, an
// honest "retry later" to the client; only the second is INTERNAL_SERVER_ERROR.

/** Socket-level errors of Node, pg, ioredis, undici and the S3 client. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/** Prisma's codes for an unreachable database, a lost connection and an exhausted pool. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);

/** What Prisma's driver adapters report when the database cannot be reached or answer. */
const ADAPTER_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TransactionAlreadyClosed",
]);

/**
 * PostgreSQL SQLSTATEs: connection exceptions (08…), the server shutting down or starting
 * (57P01–57P03), a statement cancelled by its timeout (57014), too many connections (53300).
 */
const isUnavailableSqlState = (code: string) => /^08/.test(code) || /^57P0[1-3]$/.test(code) || code === "57014" || code === "53300";

/** ioredis's and node-postgres's words for a connection that is gone or never came. */
const CONNECTION_MESSAGES =
  /^(Connection is closed\.|Stream isn't writeable|Reached the max retries per request limit|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export class DeadlineExceededError extends Error {
  override name = "DeadlineExceededError";
  constructor(message = "the request ran past its deadline") {
    super(message);
  }
}

function matches(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if (error instanceof DeadlineExceededError) return true;
  const { code, name, message, meta } = error as { code?: unknown; name?: unknown; message?: unknown; meta?: unknown };
  if (typeof code === "string" && (NETWORK_CODES.has(code) || PRISMA_CODES.has(code) || isUnavailableSqlState(code))) return true;
  if (
    name === "PrismaClientInitializationError" ||
    name === "MaxRetriesPerRequestError" ||
    name === "AbortError" ||
    name === "TimeoutError"
  )
    return true;
  if (typeof message === "string" && CONNECTION_MESSAGES.test(message)) return true;
  const adapter = (meta as { driverAdapterError?: { cause?: { kind?: string; code?: string } } } | undefined)?.driverAdapterError?.cause;
  if (adapter && ((adapter.kind && ADAPTER_KINDS.has(adapter.kind)) || (adapter.code && isUnavailableSqlState(adapter.code)))) return true;
  return false;
}

/** Whether `error` (or what caused it) says a dependency is unreachable, slow or going away. */
export function isInfrastructureFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (matches(current)) return true;
    current = (current as { cause?: unknown }).cause ?? (current as { originalError?: unknown }).originalError;
  }
  return false;
}
