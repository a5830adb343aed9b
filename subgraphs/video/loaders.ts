// Per-request DataLoaders of the video subgraph: the only path from an id to a row. Video
// rows and likes are read through their caches.
import DataLoader from "dataloader";
import { VideoCaches } from "./caches";
import type { FeedRow, UserRecord, VideoRecord, VideoStore } from "./store";

export function createLoaders(store: VideoStore, caches: VideoCaches, viewerId: number | null) {
  const loaders = {
    userById: new DataLoader<number, UserRecord>((userIds) => store.findUserStats(userIds)),
    videoById: new DataLoader<number, VideoRecord | null>((videoIds) =>
      caches.videos.loadMany(videoIds, (missing) => store.findVideos(missing)),
    ),
    /** Whether the viewer likes each video (always false without a viewer, at no cost). */
    isFavorite: new DataLoader<number, boolean>(async (videoIds) => {
      if (viewerId === null) return videoIds.map(() => false);
      const keys = videoIds.map((videoId) => VideoCaches.likeKey(viewerId, videoId));
      const liked = await caches.likes.loadMany(keys, (missing) =>
        store.findLikes(
          viewerId,
          missing.map((key) => Number(key.split("-")[1])),
        ),
      );
      return liked.map((value) => value === true);
    }),
    /** Rows a joined query already read: later loads of the same ids cost nothing. */
    primeFeedRows(rows: FeedRow[]) {
      for (const row of rows) {
        const id = Number(row.video.id);
        loaders.videoById.prime(id, row.video);
        loaders.isFavorite.prime(id, row.isFavorite);
        loaders.userById.prime(row.authorStats.id, row.authorStats);
      }
    },
  };
  return loaders;
}

export type VideoLoaders = ReturnType<typeof createLoaders>;
