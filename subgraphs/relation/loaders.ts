// Per-request DataLoaders of the relation subgraph.
import DataLoader from "dataloader";
import type { RelationData, UserRelationRecord } from "./data";

export function createLoaders(relations: RelationData, viewerId: number | null) {
  return {
    userRelation: new DataLoader<number, UserRelationRecord>((userIds) => relations.findUserRelations(viewerId, userIds)),
  };
}

export type RelationLoaders = ReturnType<typeof createLoaders>;
