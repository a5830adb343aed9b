// Per-request DataLoaders of the relation subgraph: the only path from a user id to its
// counters and follow state, and to the latest message with the viewer.
import DataLoader from "dataloader";
import type { MessageRecord, RelationStore, UserRelation } from "./store";

export function createLoaders(store: RelationStore, viewerId: number | null) {
  return {
    /** Counters of a user and whether the viewer follows them. */
    relationOf: new DataLoader<number, UserRelation>((userIds) => store.findRelations(viewerId, userIds)),
    /** The latest message between the viewer and each user (friend lists). */
    latestMessageWith: new DataLoader<number, MessageRecord | null>(async (userIds) =>
      viewerId === null ? userIds.map(() => null) : store.latestMessages(viewerId, userIds),
    ),
  };
}

export type RelationLoaders = ReturnType<typeof createLoaders>;
