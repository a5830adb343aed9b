// Composes the subgraph schemas named in supergraph.yaml into the supergraph SDL the gateway
// (or Apollo Router) serves. Rover cannot be installed here; @apollo/composition is the same code.
import fs from "node:fs";
import path from "node:path";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import YAML from "yaml";
import { projectRoot } from "../common/config";

export const SUPERGRAPH_CONFIG = path.join(projectRoot, "supergraph.yaml");
export const SUPERGRAPH_FILE = path.join(projectRoot, "supergraph.graphql");

interface SupergraphConfig {
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

export class CompositionError extends Error {
  override name = "CompositionError";
  constructor(readonly messages: string[]) {
    super(`supergraph composition failed:\n${messages.map((m) => `  - ${m}`).join("\n")}`);
  }
}

export function composeSupergraph(configFile = SUPERGRAPH_CONFIG): { supergraphSdl: string; hints: string[] } {
  const config = YAML.parse(fs.readFileSync(configFile, "utf8")) as SupergraphConfig;
  const base = path.dirname(configFile);
  const services = Object.entries(config.subgraphs ?? {}).map(([name, subgraph]) => ({
    name,
    url: subgraph.routing_url,
    typeDefs: parse(fs.readFileSync(path.resolve(base, subgraph.schema.file), "utf8")),
  }));
  if (services.length === 0) throw new CompositionError([`${configFile} names no subgraphs`]);
  const result = composeServices(services);
  if (result.errors) throw new CompositionError(result.errors.map((error) => error.message));
  return { supergraphSdl: result.supergraphSdl, hints: result.hints.map((hint) => `${hint.definition.code}: ${hint.message}`) };
}

export function readSupergraph(file = SUPERGRAPH_FILE): string {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (it composes the supergraph)`);
  return fs.readFileSync(file, "utf8");
}
