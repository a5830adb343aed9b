// Establishes the caller of a GraphQL request from `Authorization: Bearer <token>`.
import type { SessionStore } from "../common/tokens";
import type { Authentication } from "./context";

export async function authenticate(sessions: SessionStore, authorization: string | undefined): Promise<Authentication> {
  if (!authorization) return { ok: false, reason: "absent" };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return { ok: false, reason: "malformed" };
  return sessions.check(match[1]!);
}
