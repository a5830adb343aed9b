// Starts the video subgraph: videos, likes, comments and their counters in its own database.
import type { Config } from "../../common/config";
import { runAsProcess } from "../../common/lifecycle";
import type { Logger } from "../../common/logger";
import { startSubgraph, type SubgraphDefinition } from "../../common/subgraph-service";
import { PrismaClient } from "../../generated/prisma/video/client";
import type { VideoContext } from "./context";
import { VideoData } from "./data";
import { createLoaders } from "./loaders";
import { resolvers } from "./resolvers";

export const videoSubgraph: SubgraphDefinition<PrismaClient, VideoContext> = {
  name: "video",
  createClient: (adapter) => new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] }),
  async setup({ prisma }) {
    const videos = new VideoData(prisma);
    return { resolvers, createContext: (scope) => ({ ...scope, videos, loaders: createLoaders(videos) }) };
  },
};

export const startVideoSubgraph = (config: Config, log: Logger, port = config.ports.video) =>
  startSubgraph(videoSubgraph, config, log, port);

if (require.main === module) runAsProcess("video", (config, log) => startVideoSubgraph(config, log));
