// The user subgraph's rules: credentials checks, registration (announced to the other
// subgraphs once committed), logins that cost the same for unknown users, sessions.
import argon2 from "argon2";
import { isUniqueViolation } from "../../platform/database";
import { badInput, unauthenticated } from "../../lib/errors";
import { USER_REGISTERED_QUEUE, userRegisteredJobId, type UserRegisteredEvent } from "../../lib/events";
import { parseId, requireId, type IdGenerator } from "../../lib/ids";
import { checkText } from "../../lib/text";
import type { Config } from "../../platform/config";
import type { Queues } from "../../platform/queues";
import type { SessionStore } from "../../platform/sessions";
import { cachedOr, type LocalCache } from "../../platform/local-cache";
import type { Viewer } from "../../platform/viewer";
import type { MaybePromise } from "../../lib/maybe";
import type { UserLoaders } from "./loaders";
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
  ) {}

  private checkCredentials(username: string, password: string): void {
    const { limits } = this.deps.config;
    checkText(username, "username", { max: limits.username, singleLine: true });
    checkText(password, "password", { max: limits.password, singleLine: true });
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

  async register(username: string, password: string): Promise<AuthPayloadRecord> {
    this.checkCredentials(username, password);
    const { store, ids, queues, sessions } = this.deps;
    const passwordHash = await this.deps.hash(password);
    let user: UserRecord;
    try {
      user = await store.createUser({ id: ids.next(), username, passwordHash });
    } catch (error) {
      if (isUniqueViolation(error)) throw badInput("username is already taken");
      throw error;
    }
    const userId = Number(user.id);
    await queues.queue<UserRegisteredEvent>(USER_REGISTERED_QUEUE).add("registered", { userId }, { jobId: userRegisteredJobId(userId) });
    const { token } = await sessions.open(userId);
    return { token, user };
  }

  async login(username: string, password: string): Promise<AuthPayloadRecord> {
    this.checkCredentials(username, password);
    const row = await this.deps.store.findCredentials(username);
    const passwordMatches = await argon2.verify(row?.passwordHash ?? (await this.deps.decoyHash), password);
    if (!row || !passwordMatches) throw unauthenticated("wrong username or password");
    const { passwordHash: _, ...user } = row;
    const { token } = await this.deps.sessions.open(Number(user.id));
    return { token, user };
  }

  logout(): Promise<boolean> {
    return this.deps.sessions.revoke(this.viewer.require().sessionId);
  }
}
