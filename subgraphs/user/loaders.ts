// Per-request DataLoaders of the user subgraph: the only path from a user id to a row, through
// the in-process cache of profiles (rows only change when a user is created, so a cached row
// stays right; ids that do not exist are not cached).
import DataLoader from "dataloader";
import type { LocalCache } from "../../platform/local-cache";
import type { UserRecord } from "./store";

export function createLoaders(profiles: LocalCache<number, UserRecord>) {
  return {
    userById: new DataLoader<number, UserRecord | null>(async (ids) => (await profiles.loadMany(ids)).map((user) => user ?? null)),
  };
}

export type UserLoaders = ReturnType<typeof createLoaders>;
