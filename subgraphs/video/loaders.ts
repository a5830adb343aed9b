// Per-request DataLoaders of the video subgraph: the only path from an id to a row.
import DataLoader from "dataloader";
import type { FeedRow, UserStatsRecord, VideoData, VideoRecord } from "./data";

export function createLoaders(videos: VideoData, viewerId: number | null) {
  const loaders = {
    userStats: new DataLoader<number, UserStatsRecord>((userIds) => videos.findUserStats(userIds)),
    videoById: new DataLoader<number, VideoRecord | null>((videoIds) => videos.findVideos(videoIds)),
    /** Whether the viewer likes each video (always false without a viewer, at no cost). */
    isFavorite: new DataLoader<number, boolean>(async (videoIds) =>
      viewerId === null ? videoIds.map(() => false) : videos.findLikes(viewerId, videoIds),
    ),
    /** Rows a joined query already read: later loads of the same ids cost nothing. */
    primeFeedRows(rows: FeedRow[]) {
      for (const row of rows) {
        const id = Number(row.video.id);
        loaders.videoById.prime(id, row.video);
        loaders.isFavorite.prime(id, row.isFavorite);
        loaders.userStats.prime(row.authorStats.id, row.authorStats);
      }
    },
  };
  return loaders;
}

export type VideoLoaders = ReturnType<typeof createLoaders>;
