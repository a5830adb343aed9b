// Login sessions: a JWT naming the user and a session id, and the session itself in the
// key-value store (Redis) with a sliding TTL, so logout and revocation take effect at once.
import { createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { parseId } from "../lib/ids";
import type { Config } from "./config";
import type { KeyValueStore } from "./kv";

export type TokenFailure = "malformed" | "invalid-signature" | "expired" | "revoked";

export function describeTokenFailure(reason: string | undefined): string {
  switch (reason) {
    case "expired":
      return "token expired, please log in again";
    case "revoked":
      return "session ended (logged out or expired), please log in again";
    case "invalid-signature":
    case "malformed":
      return "invalid token";
    default:
      return "login required";
  }
}

export type TokenCheck = { ok: true; userId: number; sessionId: string } | { ok: false; reason: TokenFailure };

const ALGORITHM = "HS256";
const ISSUER = "douyin-supergraph";

/** Checks a token's signature and expiry, no store needed (an edge can refuse a forged token before reading a body). */
export class TokenVerifier {
  // Made once: given a string, jsonwebtoken first tries (and fails) to read it as a public
  // key, then builds this key, on every verify, which cost about a tenth of the gateway's CPU.
  readonly signingKey: KeyObject;

  constructor(config: Pick<Config, "auth">) {
    this.signingKey = createSecretKey(Buffer.from(config.auth.jwtSecret, "utf8"));
  }

  verify(token: string): TokenCheck {
    let claims: jwt.JwtPayload;
    try {
      const decoded = jwt.verify(token, this.signingKey, { algorithms: [ALGORITHM], issuer: ISSUER });
      if (typeof decoded === "string") return { ok: false, reason: "malformed" };
      claims = decoded;
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: "expired" };
      if (error instanceof jwt.JsonWebTokenError && /signature/.test(error.message)) return { ok: false, reason: "invalid-signature" };
      return { ok: false, reason: "malformed" };
    }
    const userId = parseId(claims.sub);
    const sessionId = typeof claims.sid === "string" ? claims.sid : undefined;
    if (userId === undefined || sessionId === undefined) return { ok: false, reason: "malformed" };
    return { ok: true, userId, sessionId };
  }
}

export class SessionStore {
  private readonly tokens: TokenVerifier;

  constructor(
    private readonly config: Pick<Config, "auth">,
    private readonly store: KeyValueStore,
  ) {
    this.tokens = new TokenVerifier(config);
  }

  private key(sessionId: string): string {
    return `session:${sessionId}`;
  }

  /** Opens a session for the user and returns its signed token. */
  async open(userId: number): Promise<{ token: string; sessionId: string }> {
    const sessionId = randomUUID();
    await this.store.set([{ key: this.key(sessionId), value: String(userId), ttlSeconds: this.config.auth.sessionTtlSeconds }]);
    const token = jwt.sign({ sid: sessionId }, this.tokens.signingKey, {
      algorithm: ALGORITHM,
      subject: String(userId),
      issuer: ISSUER,
      expiresIn: this.config.auth.jwtTtlSeconds,
    });
    return { token, sessionId };
  }

  /** Verifies signature and expiry, then that the session still lives (renewing its TTL). */
  async check(token: string): Promise<TokenCheck> {
    const verified = this.tokens.verify(token);
    if (!verified.ok) return verified;
    const owner = await this.store.getAndTouch(this.key(verified.sessionId), this.config.auth.sessionTtlSeconds);
    if (owner !== String(verified.userId)) return { ok: false, reason: "revoked" };
    return verified;
  }

  async revoke(sessionId: string): Promise<boolean> {
    return (await this.store.delete([this.key(sessionId)])) > 0;
  }
}
