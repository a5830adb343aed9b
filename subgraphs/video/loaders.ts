// Per-request DataLoaders of the video subgraph.
import DataLoader from "dataloader";
import type { UserStatsRecord, VideoData } from "./data";

export function createLoaders(videos: VideoData) {
  return {
    userStats: new DataLoader<number, UserStatsRecord>((userIds) => videos.findUserStats(userIds)),
  };
}

export type VideoLoaders = ReturnType<typeof createLoaders>;
