// Per-request DataLoaders of the user subgraph: the only path from a user id to a row.
import DataLoader from "dataloader";
import type { UserData, UserRecord } from "./data";

export function createLoaders(users: UserData) {
  return {
    userById: new DataLoader<number, UserRecord | null>((ids) => users.findByIds(ids)),
  };
}

export type UserLoaders = ReturnType<typeof createLoaders>;
