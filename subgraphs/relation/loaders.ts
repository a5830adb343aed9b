// Per-request DataLoaders of the relation subgraph.
import DataLoader from "dataloader";
import type { RelationData, UserRelationRecord } from "./data";
import type { MessageData, MessageRecord } from "./messages";

export function createLoaders(relations: RelationData, messages: MessageData, viewerId: number | null) {
  return {
    userRelation: new DataLoader<number, UserRelationRecord>((userIds) => relations.findUserRelations(viewerId, userIds)),
    /** The latest message between the viewer and each user (friend lists). */
    latestMessageWith: new DataLoader<number, MessageRecord | null>(async (userIds) =>
      viewerId === null ? userIds.map(() => null) : messages.latestWith(viewerId, userIds),
    ),
  };
}

export type RelationLoaders = ReturnType<typeof createLoaders>;
