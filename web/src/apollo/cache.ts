// The normalized cache and how its paged fields merge: the feed by its time cursor, every
// connection by `after`, a conversation by message id (so polling never shows one twice).
import { InMemoryCache, type FieldPolicy, type Reference, type StoreObject } from "@apollo/client/cache";

type ReadField = (field: string, from?: Reference | StoreObject) => unknown;

interface FeedPageShape {
  videos: ReadonlyArray<Reference>;
  nextTime?: string | null;
}

/**
 * The feed as one growing list: a page asked with `latestTime` (the previous page's nextTime)
 * goes after what is there; one asked without it is a fresh start and replaces it.
 */
export function mergeFeedPages(
  existing: FeedPageShape | undefined,
  incoming: FeedPageShape,
  latestTime: unknown,
  readField: ReadField,
): FeedPageShape {
  if (!existing || latestTime == null) return incoming;
  const seen = new Set(existing.videos.map((video) => readField("id", video)));
  return { ...incoming, videos: [...existing.videos, ...incoming.videos.filter((video) => !seen.has(readField("id", video)))] };
}

interface ConnectionShape {
  nodes: ReadonlyArray<Reference | StoreObject>;
  nextCursor?: string | null;
  hasMore: boolean;
}

/** What identifies a node: its id, or (for a Friend, which has none) its user's id. */
function nodeKey(node: Reference | StoreObject, readField: ReadField): unknown {
  const id = readField("id", node);
  if (id !== undefined) return id;
  const user = readField("user", node) as Reference | StoreObject | undefined;
  return user ? readField("id", user) : node;
}

/** A page with `after` continues the list (skipping nodes already there); the first page replaces it. */
export function mergeConnection(
  existing: ConnectionShape | undefined,
  incoming: ConnectionShape,
  after: unknown,
  readField: ReadField,
): ConnectionShape {
  if (!existing || after == null) return incoming;
  const seen = new Set(existing.nodes.map((node) => nodeKey(node, readField)));
  return { ...incoming, nodes: [...existing.nodes, ...incoming.nodes.filter((node) => !seen.has(nodeKey(node, readField)))] };
}

/** Oldest first, each message once: a poll that repeats one, or a sent one arriving back, is merged. */
export function mergeMessages(
  existing: ReadonlyArray<Reference> | undefined,
  incoming: ReadonlyArray<Reference>,
  readField: ReadField,
): Reference[] {
  const byId = new Map<unknown, Reference>();
  for (const message of [...(existing ?? []), ...incoming]) byId.set(readField("id", message), message);
  const sortKey = (message: Reference) =>
    `${String(readField("createdAt", message))}|${String(readField("id", message)).padStart(20, "0")}`;
  return [...byId.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

const connection: FieldPolicy<ConnectionShape> = {
  // `first` and `after` choose a page of one list, they do not make another list.
  keyArgs: false,
  merge: (existing, incoming, { args, readField }) => mergeConnection(existing, incoming, args?.after, readField as ReadField),
};

/** `user(id)` and `video(id)` read what the cache already holds about that entity (a feed's author). */
function entityById(typename: string): FieldPolicy {
  return {
    read: (existing, { args, toReference }) =>
      // `null` is the server's "no such one": keep it rather than point at an entity never written.
      existing !== undefined ? existing : args?.id ? toReference({ __typename: typename, id: args.id }) : undefined,
  };
}

export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          feed: {
            keyArgs: false,
            merge: (existing, incoming, { args, readField }) =>
              mergeFeedPages(existing, incoming, args?.latestTime, readField as ReadField),
          },
          chat: {
            keyArgs: ["withUserId"],
            merge: (existing, incoming, { readField }) => mergeMessages(existing, incoming, readField as ReadField),
          },
          user: entityById("User"),
          video: entityById("Video"),
        },
      },
      User: {
        fields: { videos: connection, likedVideos: connection, following: connection, followers: connection, friends: connection },
      },
      Video: { fields: { comments: connection } },
    },
  });
}
