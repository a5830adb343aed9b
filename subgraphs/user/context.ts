// The user subgraph's per-request context.
import type { Config } from "../../common/config";
import type { RequestScope } from "../../common/subgraph-host";
import type { UserData } from "./data";
import type { UserLoaders } from "./loaders";

export interface UserContext extends RequestScope {
  users: UserData;
  loaders: UserLoaders;
  limits: Config["limits"];
}
