// The relation subgraph's rules: who may follow whom, exact follow counters (changes written
// with the follow, only when a row really changed), friends visible only to their owner, and
// chat with the sensitive-word filter and polls that never miss or repeat a message.
import { badInput, forbidden, notFound } from "../../lib/errors";
import { USER_REGISTERED_QUEUE, userRegisteredJobId } from "../../lib/events";
import { parseId, requireId, type IdGenerator } from "../../lib/ids";
import { pageSize, readCursor } from "../../lib/pagination";
import { checkUserText } from "../../lib/text";
import type { SensitiveWordFilter } from "../../lib/text-filter";
import type { Config } from "../../platform/config";
import type { Queues } from "../../platform/queues";
import type { LivePublisher } from "../../platform/live-events";
import { messagesTopic, type LiveMessage } from "../../lib/live-events";
import type { Viewer } from "../../framework/viewer";
import type { MaybePromise } from "../../lib/maybe";
import type { RelationCaches } from "./caches";
import type { RelationLoaders } from "./loaders";
import type {
  FollowDirection,
  FriendConnectionRecord,
  FriendRecord,
  MessageRecord,
  RelationStore,
  UserConnectionRecord,
  UserRecord,
  UserRelation,
} from "./store";

/** What the service shares across requests (the workers use it too). */
export class RelationServiceDeps {
  constructor(
    readonly store: RelationStore,
    readonly caches: RelationCaches,
    readonly ids: IdGenerator,
    readonly words: SensitiveWordFilter,
    readonly queues: Queues,
    readonly config: Pick<Config, "limits" | "chat">,
    /** Tells the counter drainer (when this process runs one) that changes were just written. */
    readonly countersWritten: () => void,
    /** Tells the gateways of each message, for `Subscription.messageReceived`. */
    readonly live: LivePublisher,
  ) {}

  /**
   * Whether the user exists: announced and recorded, or announced and still in the queue (the
   * event is published only after the registration committed), so a user can be followed the
   * moment registration answers.
   */
  async userExists(userId: number): Promise<boolean> {
    if (await this.caches.knownUsers.load(userId)) return true;
    return this.queues.queue(USER_REGISTERED_QUEUE).has(userRegisteredJobId(userId));
  }
}

/** The rules as one request sees them (its viewer, its loaders). */
export class RelationService {
  constructor(
    private readonly deps: RelationServiceDeps,
    private readonly viewer: Viewer,
    private readonly loaders: RelationLoaders,
  ) {}

  /** An entity reference from another subgraph: null for an id that cannot exist. */
  reference(id: unknown): UserRecord | null {
    const userId = parseId(id);
    return userId === undefined ? null : { id: userId };
  }

  /** The user's counters and whether the viewer follows them (batched across the response). */
  relationOf(user: UserRecord): MaybePromise<UserRelation> {
    const { counters, followeesOf } = this.deps.caches;
    const viewerId = this.viewer.userId;
    const cached = counters.get(user.id);
    const followees = viewerId === null ? undefined : followeesOf.get(viewerId);
    if (cached && (viewerId === null || followees)) {
      // Counters may dip below zero for a moment while changes apply out of order.
      return {
        id: user.id,
        followCount: Math.max(0, cached.followCount),
        followerCount: Math.max(0, cached.followerCount),
        isFollow: followees?.has(user.id) ?? false,
      };
    }
    return this.loaders.relationOf.load(user.id);
  }

  async follow(userId: string): Promise<UserRecord> {
    const followeeId = requireId(userId, "user");
    const followerId = this.viewer.require().userId;
    if (followerId === followeeId) throw badInput("you cannot follow yourself");
    if (!(await this.deps.userExists(followeeId))) throw notFound(`user ${followeeId} not found`);
    if (await this.deps.store.insertFollow(followerId, followeeId)) await this.followsChanged(followerId);
    return { id: followeeId };
  }

  async unfollow(userId: string): Promise<UserRecord> {
    const followeeId = requireId(userId, "user");
    const followerId = this.viewer.require().userId;
    if (followerId === followeeId) throw badInput("you cannot unfollow yourself");
    if (await this.deps.store.deleteFollow(followerId, followeeId)) await this.followsChanged(followerId);
    return { id: followeeId };
  }

  /**
   * After a follow or unfollow committed: whom the follower follows is cached (answered only
   * once every replica dropped it), and counters changed.
   */
  private async followsChanged(followerId: number): Promise<void> {
    const dropped = this.deps.caches.followeesOf.invalidate([followerId]);
    this.loaders.relationOf.clearAll();
    this.deps.countersWritten();
    await dropped;
  }

  follows(
    direction: FollowDirection,
    user: UserRecord,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<UserConnectionRecord> {
    return this.deps.store.follows(direction, user.id, pageSize(first, this.deps.config.limits), readCursor(after));
  }

  friends(user: UserRecord, first: number | null | undefined, after: string | null | undefined): Promise<FriendConnectionRecord> {
    if (this.viewer.require().userId !== user.id) throw forbidden("only the user themself can see their friends");
    return this.deps.store.friends(user.id, pageSize(first, this.deps.config.limits), readCursor(after));
  }

  latestMessage(friend: FriendRecord): Promise<MessageRecord | null> {
    return this.loaders.latestMessageWith.load(friend.id);
  }

  async sendMessage(toUserId: string, rawContent: string): Promise<MessageRecord> {
    const fromUserId = this.viewer.require().userId;
    const to = requireId(toUserId, "user");
    if (fromUserId === to) throw badInput("you cannot send a message to yourself");
    const { config, words, store, ids, caches } = this.deps;
    const content = words.mask(checkUserText(rawContent, "content", { max: config.limits.message }));
    if (!(await this.deps.userExists(to))) throw notFound(`user ${to} not found`);
    const message = await store.insertMessage({ id: ids.next(), fromUserId, toUserId: to, content });
    await caches.chat.append(fromUserId, to, [message]);
    // To both people: the recipient, and the sender's other devices.
    const live = liveMessage(message);
    this.deps.live.publish(messagesTopic(to), live);
    this.deps.live.publish(messagesTopic(fromUserId), live);
    return message;
  }

  /** Messages with the user, oldest first; only those created after `after` when given. */
  async chat(withUserId: string, after: Date | null | undefined): Promise<MessageRecord[]> {
    const viewerId = this.viewer.require().userId;
    const otherId = requireId(withUserId, "user");
    const { caches, store, config } = this.deps;
    if (after) {
      const cached = await caches.chat.after(viewerId, otherId, after.getTime());
      if (cached) return cached;
    }
    const rows = await store.messages(viewerId, otherId, after ?? null, config.chat.pageMax);
    if (!after) await caches.chat.fill(viewerId, otherId, rows);
    return rows.reverse();
  }
}

/** A message as the public schema writes it (what the Message resolvers answer). */
function liveMessage(message: MessageRecord): LiveMessage {
  return {
    id: String(message.id),
    fromUserId: String(message.fromUserId),
    toUserId: String(message.toUserId),
    content: message.content,
    createdAt: message.createdAt.toISOString(),
  };
}
