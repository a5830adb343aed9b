// Header names that carry identity and tracing between the edges and the subgraphs, and the
// check of the secrets that let a caller set them: the edge secret (x-client-ip, at the
// gateway) and the internal secret (x-viewer-id, at the subgraphs) are separate, so that
// holding one does not grant what the other does.
import { createHash, timingSafeEqual } from "node:crypto";

/** The gateway's proof, to a subgraph, that the caller headers (x-viewer-id...) are its own. */
export const INTERNAL_SECRET_HEADER = "x-internal-secret";
/** An edge's proof, to the gateway, that the x-client-ip it sends is the client's address. */
export const EDGE_SECRET_HEADER = "x-edge-secret";
export const VIEWER_ID_HEADER = "x-viewer-id";
/** Why a token that was sent could not be used (expired, revoked, ...): lets a subgraph explain. */
export const AUTH_FAILURE_HEADER = "x-auth-failure";
export const SESSION_ID_HEADER = "x-session-id";
export const REQUEST_ID_HEADER = "x-request-id";
/** The client's address: from the REST adapter to the gateway, believed only with the edge secret; from the gateway to a subgraph, only with the internal secret. */
export const CLIENT_IP_HEADER = "x-client-ip";
/** Milliseconds a subgraph call has left (relative, so clocks need not agree). */
export const DEADLINE_HEADER = "x-request-timeout-ms";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Constant-time comparison of a presented secret with the configured one. */
export function secretMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== "string") return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
