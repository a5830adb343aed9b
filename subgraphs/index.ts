// THE subgraphs in code: each one's definition (its schema's resolvers, context and workers),
// paired with supergraph.yaml's list when this module loads, so the two cannot disagree. The
// launcher, the tools and the tests take subgraphs from here; nothing loads one by its path.
import { pairDefinitions } from "../framework/subgraph";
import { SUBGRAPHS } from "../platform/registry";
import { subgraph as relation } from "./relation";
import { subgraph as user } from "./user";
import { subgraph as video } from "./video";

export const SUBGRAPH_DEFINITIONS = [user, video, relation] as const;

/** supergraph.yaml's subgraphs, in its order, each with its definition. */
export const KNOWN_SUBGRAPHS = pairDefinitions(SUBGRAPHS, SUBGRAPH_DEFINITIONS);
