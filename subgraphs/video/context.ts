// The video subgraph's per-request context.
import type { Config } from "../../common/config";
import type { RequestScope } from "../../common/subgraph-host";
import type { MediaStorage } from "../../media/storage";
import type { VideoData } from "./data";
import type { VideoLoaders } from "./loaders";
import type { VideoCaches } from "./cache";
import type { Interactions } from "./interactions";
import type { Publisher } from "./publish";

export interface VideoContext extends RequestScope {
  videos: VideoData;
  loaders: VideoLoaders;
  publisher: Publisher;
  interactions: Interactions;
  caches: VideoCaches;
  storage: MediaStorage;
  limits: Config["limits"];
}
