// Per-request DataLoaders of the video subgraph: the only path from an id to a row. Each goes
// through its in-process cache first (caches.ts), and to the store in one batch for the rest.
import DataLoader from "dataloader";
import type { VideoCaches } from "./caches";
import type { FeedRow, UserRecord, VideoCounts, VideoRecord } from "./store";

export function createLoaders(caches: VideoCaches, viewerId: number | null) {
  const loaders = {
    userById: new DataLoader<number, UserRecord>(async (userIds) =>
      (await caches.users.loadMany(userIds)).map((user, i) => user ?? zeroCounts(userIds[i]!)),
    ),
    videoById: new DataLoader<number, VideoRecord | null>(async (videoIds) =>
      (await caches.videos.loadMany(videoIds)).map((video) => video ?? null),
    ),
    countsOf: new DataLoader<number, VideoCounts>(async (videoIds) =>
      (await caches.counts.loadMany(videoIds)).map((counts) => counts ?? { favoriteCount: 0, commentCount: 0 }),
    ),
    /** Whether the viewer likes each video (always false without a viewer, at no cost). */
    isFavorite: new DataLoader<number, boolean>(async (videoIds) => {
      if (viewerId === null) return videoIds.map(() => false);
      const liked = await caches.likedBy.load(viewerId);
      return videoIds.map((videoId) => liked?.has(videoId) ?? false);
    }),
    /** Rows a joined query already read: later loads of the same ids cost nothing. */
    primeFeedRows(rows: FeedRow[]) {
      for (const row of rows) {
        const id = Number(row.video.id);
        loaders.videoById.prime(id, row.video);
        loaders.countsOf.prime(id, { favoriteCount: row.video.favoriteCount, commentCount: row.video.commentCount });
        loaders.isFavorite.prime(id, row.isFavorite);
        loaders.userById.prime(row.authorStats.id, row.authorStats);
      }
    },
  };
  return loaders;
}

const zeroCounts = (id: number): UserRecord => ({ id, workCount: 0, favoriteCount: 0, totalFavorited: 0 });

export type VideoLoaders = ReturnType<typeof createLoaders>;
