// The video subgraph's per-request context.
import type { RequestScope } from "../../common/subgraph-host";
import type { VideoData } from "./data";
import type { VideoLoaders } from "./loaders";

export interface VideoContext extends RequestScope {
  videos: VideoData;
  loaders: VideoLoaders;
}
