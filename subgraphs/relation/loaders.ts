// Per-request DataLoaders of the relation subgraph: the only path from a user id to its
// counters and follow state (through the in-process caches), and to the latest message with
// the viewer.
import DataLoader from "dataloader";
import type { RelationCaches } from "./caches";
import type { MessageRecord, RelationStore, UserRelation } from "./store";

export function createLoaders(store: RelationStore, caches: RelationCaches, viewerId: number | null) {
  return {
    /** Counters of a user and whether the viewer follows them. */
    relationOf: new DataLoader<number, UserRelation>(async (userIds) => {
      const [counters, followees] = await Promise.all([
        caches.counters.loadMany(userIds),
        viewerId === null ? undefined : caches.followeesOf.load(viewerId),
      ]);
      return userIds.map((id, i) => ({
        id,
        // Counters may dip below zero for a moment while changes apply out of order.
        followCount: Math.max(0, counters[i]?.followCount ?? 0),
        followerCount: Math.max(0, counters[i]?.followerCount ?? 0),
        isFollow: followees?.has(id) ?? false,
      }));
    }),
    /** The latest message between the viewer and each user (friend lists). */
    latestMessageWith: new DataLoader<number, MessageRecord | null>(async (userIds) =>
      viewerId === null ? userIds.map(() => null) : store.latestMessages(viewerId, userIds),
    ),
  };
}

export type RelationLoaders = ReturnType<typeof createLoaders>;
