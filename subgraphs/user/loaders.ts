// Per-request DataLoaders of the user subgraph: the only path from a user id to a row.
import DataLoader from "dataloader";
import type { UserRecord, UserStore } from "./store";

export function createLoaders(store: UserStore) {
  return {
    userById: new DataLoader<number, UserRecord | null>((ids) => store.findByIds(ids)),
  };
}

export type UserLoaders = ReturnType<typeof createLoaders>;
