// THE list of subgraphs, read from supergraph.yaml (Rover's format): names, ports, schema and
// Prisma folders. Configuration, build, codegen, migrations and deployment checks ask this
// module instead of naming them; their definitions in code are paired with it in
// subgraphs/index.ts.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

/** The folder holding package.json, wherever this file was compiled to. */
export const projectRoot: string = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();

export const SUPERGRAPH_CONFIG = path.join(projectRoot, "supergraph.yaml");

export interface SubgraphEntry {
  /** Lower-case name, also the folder under subgraphs/ and prisma/. */
  readonly name: string;
  /** Prefix of the subgraph's own variables: `<PREFIX>_PORT`, `<PREFIX>_SUBGRAPH_URL`, `<PREFIX>_DATABASE_URL`. */
  readonly envPrefix: string;
  /** Where the gateway finds it by default (`npm start --split`). */
  readonly routingUrl: string;
  /** Its port by default, taken from routing_url. */
  readonly port: number;
  /** Absolute path of its SDL. */
  readonly schemaFile: string;
  /** Absolute path of its folder (schema.graphql, index.ts, ...): the folder of its SDL. */
  readonly folder: string;
  /** Absolute path of its Prisma folder (schema.prisma, migrations/): prisma/<name> beside subgraphs/. */
  readonly prismaFolder: string;
}

interface RawConfig {
  subgraphs?: Record<string, { routing_url?: unknown; schema?: { file?: unknown } } | null>;
}

export class RegistryError extends Error {
  override name = "RegistryError";
}

const NAME = /^[a-z][a-z0-9]*$/;

/** Reads and checks the list; `file` defaults to the project's supergraph.yaml. */
export function readRegistry(file = SUPERGRAPH_CONFIG): SubgraphEntry[] {
  const raw = YAML.parse(fs.readFileSync(file, "utf8")) as RawConfig | null;
  const base = path.dirname(file);
  const entries = Object.entries(raw?.subgraphs ?? {}).map(([name, spec]): SubgraphEntry => {
    if (!NAME.test(name)) throw new RegistryError(`${file}: subgraph name "${name}" must be lower-case letters and digits`);
    const routingUrl = spec?.routing_url;
    const schemaFile = spec?.schema?.file;
    if (typeof routingUrl !== "string" || typeof schemaFile !== "string") {
      throw new RegistryError(`${file}: subgraph "${name}" needs routing_url and schema.file`);
    }
    let port: number;
    try {
      const url = new URL(routingUrl);
      port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    } catch {
      throw new RegistryError(`${file}: subgraph "${name}" has an invalid routing_url ${JSON.stringify(routingUrl)}`);
    }
    const schemaPath = path.resolve(base, schemaFile);
    const folder = path.dirname(schemaPath);
    return {
      name,
      envPrefix: name.toUpperCase(),
      routingUrl,
      port,
      schemaFile: schemaPath,
      folder,
      prismaFolder: path.join(folder, "..", "..", "prisma", name),
    };
  });
  if (entries.length === 0) throw new RegistryError(`${file} names no subgraphs`);
  return entries;
}

/** The project's subgraphs, in the order supergraph.yaml lists them. */
export const SUBGRAPHS: readonly SubgraphEntry[] = readRegistry();

export const SUBGRAPH_NAMES: readonly string[] = SUBGRAPHS.map((entry) => entry.name);

export function subgraphEntry(name: string): SubgraphEntry {
  const entry = SUBGRAPHS.find((candidate) => candidate.name === name);
  if (!entry) throw new RegistryError(`no subgraph "${name}" in supergraph.yaml (known: ${SUBGRAPH_NAMES.join(", ")})`);
  return entry;
}
