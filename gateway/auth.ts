// Establishes the caller of a GraphQL request from `Authorization: Bearer <token>`, once per
// request; the subgraphs receive the result (the viewer) and trust nothing else.
import type { Logger } from "../platform/logger";
import type { SessionStore } from "../platform/sessions";
import { Viewer } from "../platform/viewer";

/** The gateway's per-request context. */
export interface GatewayContext {
  viewer: Viewer;
  requestId: string;
  log: Logger;
}

export async function authenticate(sessions: SessionStore, authorization: string | undefined): Promise<Viewer> {
  if (!authorization) return Viewer.anonymous;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return new Viewer(null, "malformed");
  const check = await sessions.check(match[1]!);
  return check.ok ? new Viewer({ userId: check.userId, sessionId: check.sessionId }) : new Viewer(null, check.reason);
}
