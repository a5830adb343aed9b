// The gateway's per-request context: who is calling (from a verified token and a live session).
import type { Logger } from "../common/logger";
import type { TokenFailure } from "../common/tokens";

export type Authentication =
  | { ok: true; userId: number; sessionId: string }
  | { ok: false; reason: TokenFailure | "absent" };

export interface GatewayContext {
  auth: Authentication;
  requestId: string;
  log: Logger;
}
