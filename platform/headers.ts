// Header names that carry identity and tracing between the edges and the subgraphs, and the
// check of the secret that lets a caller set them.
import { createHash, timingSafeEqual } from "node:crypto";

export const INTERNAL_SECRET_HEADER = "x-internal-secret";
export const VIEWER_ID_HEADER = "x-viewer-id";
/** Why a token that was sent could not be used (expired, revoked, ...): lets a subgraph explain. */
export const AUTH_FAILURE_HEADER = "x-auth-failure";
export const SESSION_ID_HEADER = "x-session-id";
export const REQUEST_ID_HEADER = "x-request-id";
/** The client's address as the REST adapter (or the gateway, to a subgraph) saw it; believed only with the internal secret. */
export const CLIENT_IP_HEADER = "x-client-ip";
/** Milliseconds a subgraph call has left (relative, so clocks need not agree). */
export const DEADLINE_HEADER = "x-request-timeout-ms";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of a presented secret with the configured one. */
export function secretMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== "string") return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
