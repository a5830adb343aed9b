// The user subgraph's rules: credentials checks, registration (announced to the other
// subgraphs once committed), logins that cost the same for unknown users, sessions.
import argon2 from "argon2";
import { isUniqueViolation } from "../../platform/database";
import { badInput, unauthenticated, unavailable } from "../../lib/errors";
import { USER_REGISTERED_QUEUE, userRegisteredJobId, type UserRegisteredEvent } from "../../lib/events";
import { parseId, requireId, type IdGenerator } from "../../lib/ids";
import { checkText, normalizeName } from "../../lib/text";
import type { Config } from "../../platform/config";
import type { Logger } from "../../platform/logger";
import type { Queues } from "../../platform/queues";
import type { LivePublisher } from "../../platform/live-events";
import { SESSIONS_ENDED } from "../../lib/live-events";
import type { SessionStore } from "../../platform/sessions";
import { cachedOr, type LocalCache } from "../../platform/local-cache";
import type { Viewer } from "../../framework/viewer";
import type { MaybePromise } from "../../lib/maybe";
import type { UserLoaders } from "./loaders";
import type { LoginGuard } from "./login-guard";
import type { UserRecord, UserStore } from "./store";

/** What the service shares across requests. */
export class UserServiceDeps {
  /** Verified against when the username is unknown, so a miss costs as long as a wrong password. */
  readonly decoyHash: Promise<string>;

  constructor(
    readonly store: UserStore,
    readonly sessions: SessionStore,
    readonly ids: IdGenerator,
    readonly queues: Queues,
    readonly config: Pick<Config, "limits" | "auth">,
    readonly profiles: LocalCache<number, UserRecord>,
    /** Login attempts per account and address: a flood against one account is refused before argon2 runs. */
    readonly loginGuard: LoginGuard,
    /** Tells the event relay (here or in another process) that events were just written. */
    readonly eventsWritten: () => void,
    /** Tells every gateway when a session ends, so its live connections close. */
    readonly live: LivePublisher,
  ) {
    this.decoyHash = this.hash("decoy-password-for-unknown-users");
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.config.auth.argon2 });
  }
}

export interface AuthPayloadRecord {
  token: string;
  user: UserRecord;
}

/** The rules as one request sees them (its viewer, its loaders). */
export class UserService {
  constructor(
    private readonly deps: UserServiceDeps,
    private readonly viewer: Viewer,
    private readonly loaders: UserLoaders,
    private readonly log: Logger,
    /** The caller's address, which login limits count by. */
    private readonly clientIp: string | null,
  ) {}

  /** The username as stored (NFKC), with the password checked; a new password must also be long enough. */
  private checkCredentials(username: string, password: string, newPassword: boolean): string {
    const { limits } = this.deps.config;
    const name = normalizeName(username, "username", { max: limits.username });
    checkText(password, "password", { min: newPassword ? limits.passwordMin : 1, max: limits.password, singleLine: true });
    return name;
  }

  /** The caller, or null without a token; a token that was sent but is unusable is explained. */
  async me(): Promise<UserRecord | null> {
    this.viewer.refuseBadToken();
    return this.viewer.userId === null ? null : this.loaders.userById.load(this.viewer.userId);
  }

  /** An entity reference from another subgraph: null for an id that cannot exist. */
  reference(id: unknown): MaybePromise<UserRecord | null> {
    const userId = parseId(id);
    return userId === undefined ? null : cachedOr(this.deps.profiles, userId, (key) => this.loaders.userById.load(key));
  }

  user(id: string): Promise<UserRecord | null> {
    return this.loaders.userById.load(requireId(id, "user"));
  }

  async users(ids: readonly string[]): Promise<(UserRecord | null)[]> {
    const { listMax } = this.deps.config.limits;
    if (ids.length > listMax) throw badInput(`at most ${listMax} ids at once`);
    const users = await this.loaders.userById.loadMany(ids.map((id) => requireId(id, "user")));
    return users.map((user) => {
      if (user instanceof Error) throw user;
      return user;
    });
  }

  async register(rawUsername: string, password: string): Promise<AuthPayloadRecord> {
    const username = this.checkCredentials(rawUsername, password, true);
    const { store, ids, queues, sessions } = this.deps;
    const passwordHash = await this.deps.hash(password);
    const userId = ids.next();
    const announce = {
      queue: USER_REGISTERED_QUEUE,
      jobId: userRegisteredJobId(userId),
      payload: { userIds: [userId] } satisfies UserRegisteredEvent,
    };
    let user: UserRecord;
    try {
      // The user and its user-registered event commit together (the event outbox).
      user = await store.createUser({ id: userId, username, passwordHash }, announce);
    } catch (error) {
      if (isUniqueViolation(error)) throw badInput("username is already taken");
      throw error;
    }
    // Enqueued at once as well, so the user can be followed the moment this answers; if Redis
    // fails here, the relay delivers the event from the outbox (same job id: never twice).
    try {
      await queues.queue<UserRegisteredEvent>(announce.queue).add("registered", announce.payload, { jobId: announce.jobId });
    } catch (error) {
      this.log.warn({ err: error, userId }, "user-registered not enqueued now; the outbox relay will deliver it");
    }
    this.deps.eventsWritten();
    try {
      const { token } = await sessions.open(userId);
      return { token, user };
    } catch (error) {
      this.log.warn({ err: error, userId }, "registered, but no session could be opened");
      throw unavailable("your account was created, but signing in failed for now: please log in");
    }
  }

  async login(rawUsername: string, password: string): Promise<AuthPayloadRecord> {
    const username = this.checkCredentials(rawUsername, password, false);
    // Unknown names are limited alike (no oracle).
    await this.deps.loginGuard.admit(username, this.clientIp);
    const row = await this.deps.store.findCredentials(username);
    const passwordMatches = await argon2.verify(row?.passwordHash ?? (await this.deps.decoyHash), password);
    if (!row || !passwordMatches) throw unauthenticated("wrong username or password");
    await this.deps.loginGuard.succeeded(username, this.clientIp);
    const { passwordHash: _, ...user } = row;
    const { token } = await this.deps.sessions.open(Number(user.id));
    return { token, user };
  }

  async logout(): Promise<boolean> {
    const { sessionId } = this.viewer.require();
    const revoked = await this.deps.sessions.revoke(sessionId);
    // Also when the key was already gone (expired): connections opened with it may still be open.
    this.deps.live.publish(SESSIONS_ENDED, { sessionId });
    return revoked;
  }
}
