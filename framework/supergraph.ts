// Composes the subgraph schemas named in supergraph.yaml into the supergraph SDL the gateway
// (or Apollo Router) serves, and the API schema clients see (no federation internals), which
// the typed documents of the REST adapter and the web client are checked against. Rover
// cannot be installed here; @apollo/composition is the same code.
import fs from "node:fs";
import path from "node:path";
import { composeServices } from "@apollo/composition";
import { Supergraph } from "@apollo/federation-internals";
import { parse, printSchema } from "graphql";
import { projectRoot, type SubgraphEntry } from "../platform/registry";

export const SUPERGRAPH_FILE = path.join(projectRoot, "supergraph.graphql");
export const API_SCHEMA_FILE = path.join(projectRoot, "generated", "schema", "api.graphql");

export class CompositionError extends Error {
  override name = "CompositionError";
  constructor(readonly messages: string[]) {
    super(`supergraph composition failed:\n${messages.map((m) => `  - ${m}`).join("\n")}`);
  }
}

export interface Composition {
  supergraphSdl: string;
  /** The schema clients query, printed as SDL. */
  apiSdl: string;
  hints: string[];
}

export function composeSupergraph(registry: readonly SubgraphEntry[]): Composition {
  const services = registry.map((entry) => ({
    name: entry.name,
    url: entry.routingUrl,
    typeDefs: parse(fs.readFileSync(entry.schemaFile, "utf8")),
  }));
  const result = composeServices(services);
  if (result.errors) throw new CompositionError(result.errors.map((error) => error.message));
  const apiSchema = Supergraph.build(result.supergraphSdl).apiSchema().toGraphQLJSSchema();
  return {
    supergraphSdl: result.supergraphSdl,
    apiSdl: printSchema(apiSchema),
    hints: result.hints.map((hint) => `${hint.definition.code}: ${hint.message}`),
  };
}

export function readSupergraph(file = SUPERGRAPH_FILE): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (it composes the supergraph)`);
  return fs.readFileSync(file, "utf8");
}
