// The relation subgraph's per-request context.
import type { Config } from "../../common/config";
import type { RequestScope } from "../../common/subgraph-host";
import type { RelationData } from "./data";
import type { RelationLoaders } from "./loaders";
import type { MessageData } from "./messages";

export interface RelationContext extends RequestScope {
  relations: RelationData;
  messages: MessageData;
  loaders: RelationLoaders;
  limits: Config["limits"];
}
