// Per-request DataLoaders of the relation subgraph: the only path from a user id to its
// counters and follow state, and to the latest message with the viewer.
import DataLoader from "dataloader";
import type { MessageRecord, RelationStore, UserRecord } from "./store";

export function createLoaders(store: RelationStore, viewerId: number | null) {
  return {
    userById: new DataLoader<number, UserRecord>((userIds) => store.findUsers(viewerId, userIds)),
    /** The latest message between the viewer and each user (friend lists). */
    latestMessageWith: new DataLoader<number, MessageRecord | null>(async (userIds) =>
      viewerId === null ? userIds.map(() => null) : store.latestMessages(viewerId, userIds),
    ),
  };
}

export type RelationLoaders = ReturnType<typeof createLoaders>;
