// The subgraphs are supergraph.yaml's list paired with their definitions in code: a fourth
// subgraph added to a copy of the list, with its SDL and its definition and nothing else, gets
// its configuration, its service, its generated types and its place in the composed
// supergraph, and answers through the gateway; a list and definitions that disagree are refused.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { configVariables, loadConfig } from "../platform/config";
import { readRegistry, SUBGRAPHS, SUPERGRAPH_CONFIG, type SubgraphEntry } from "../platform/registry";
import { defineSubgraph, pairDefinitions, type KnownSubgraph } from "../framework/subgraph";
import { composeSupergraph } from "../framework/supergraph";
import type { SubgraphContext } from "../framework/viewer";
import { codegenConfig } from "../scripts/codegen";
import { stackServices } from "../server/stack";
import { startInProcess, type InProcessStack } from "../test/in-process";
import { SUBGRAPH_DEFINITIONS } from ".";

const GREETING_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

type User @key(fields: "id") {
  id: ID!
  "A greeting only this subgraph knows how to make."
  greeting: String!
}
`;

/** The fourth subgraph's definition, as its index.ts would export it. */
const greeting = defineSubgraph<SubgraphContext<object, object>>({
  name: "greeting",
  create: () => ({
    resolvers: {
      User: {
        __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
        greeting: (user: { id: string }, _args, context) =>
          `hello ${user.id}${context.viewer.userId ? ` from ${context.viewer.userId}` : ""}`,
      },
    },
    context: ({ viewer, log }) => ({ viewer, log, loaders: {}, service: {} }),
  }),
});

let dir: string;
let registry: SubgraphEntry[];
let known: KnownSubgraph[];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fourth-subgraph-"));
  const folder = path.join(dir, "subgraphs", "greeting");
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "schema.graphql"), GREETING_SDL);
  // The project's list, with absolute schema paths, plus the new entry.
  const list = YAML.parse(fs.readFileSync(SUPERGRAPH_CONFIG, "utf8")) as { subgraphs: Record<string, { schema: { file: string } }> };
  for (const entry of SUBGRAPHS) list.subgraphs[entry.name]!.schema.file = entry.schemaFile;
  list.subgraphs.greeting = {
    routing_url: "http://127.0.0.1:4004/graphql",
    schema: { file: "./subgraphs/greeting/schema.graphql" },
  } as never;
  fs.writeFileSync(path.join(dir, "supergraph.yaml"), YAML.stringify(list));
  registry = readRegistry(path.join(dir, "supergraph.yaml"));
  known = pairDefinitions(registry, [...SUBGRAPH_DEFINITIONS, greeting]);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a fourth subgraph, added to the list and nowhere else", () => {
  it("gets its own variables, port and URL in the configuration", () => {
    assert.deepEqual(
      registry.map((entry) => entry.name),
      [...SUBGRAPHS.map((entry) => entry.name), "greeting"],
    );
    const variables = configVariables(registry);
    for (const variable of ["GREETING_PORT", "GREETING_SUBGRAPH_URL", "GREETING_DATABASE_URL"])
      assert.ok(variables.includes(variable), variable);
    const config = loadConfig({ GREETING_SUBGRAPH_URL: "http://greeting:4004/graphql" }, registry);
    assert.equal(config.subgraphs.greeting?.port, 4004, "its port comes from its routing_url");
    assert.equal(config.subgraphs.greeting?.url, "http://greeting:4004/graphql");
  });

  it("becomes a service of the stack, and gets its generated resolver types", () => {
    const services = stackServices(known).map((spec) => spec.name);
    assert.ok(services.includes("greeting"));
    assert.ok(!services.includes("greeting-workers"), "no workers declared, no worker process");
    assert.ok(services.includes("video-workers"), "the video subgraph declares workers");
    const generated = Object.keys(codegenConfig(registry).generates);
    assert.ok(
      generated.some((file) => file.endsWith(`${path.sep}greeting.ts`)),
      "resolver types for it",
    );
  });

  it("composes into the supergraph, and answers through the gateway next to the others", async () => {
    const { supergraphSdl, hints } = composeSupergraph(registry);
    assert.deepEqual(hints, []);
    assert.match(supergraphSdl, /join__graph\(name: "greeting"/);
    let stack: InProcessStack | undefined;
    try {
      stack = await startInProcess({ known, gateway: true });
      const registered = await stack.graphql<{ register: { token: string; user: { id: string } } }>(
        `mutation { register(username: "greeter", password: "secret1") { token user { id } } }`,
      );
      const { token, user } = registered.data!.register;
      const result = await stack.graphql<{ me: { name: string; greeting: string; followCount: number } }>(
        `{ me { name greeting followCount } }`,
        {},
        token,
      );
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      assert.deepEqual(result.data?.me, { name: "greeter", greeting: `hello ${user.id} from ${user.id}`, followCount: 0 });
      assert.equal(await stack.metric("subgraph_fetches_total", { subgraph: "greeting" }), 1);
    } finally {
      await stack?.close();
    }
  });
});

describe("supergraph.yaml and the definitions in code", () => {
  it("must name the same subgraphs", () => {
    assert.throws(
      () => pairDefinitions(registry, SUBGRAPH_DEFINITIONS),
      /supergraph\.yaml names greeting, which subgraphs\/index\.ts does not define/,
    );
    assert.throws(
      () => pairDefinitions(SUBGRAPHS, [...SUBGRAPH_DEFINITIONS, greeting]),
      /defines greeting, which supergraph\.yaml does not list/,
    );
    assert.deepEqual(
      pairDefinitions(SUBGRAPHS, [...SUBGRAPH_DEFINITIONS].reverse()).map(({ entry, definition }) => [entry.name, definition.name]),
      SUBGRAPHS.map((entry) => [entry.name, entry.name]),
      "in supergraph.yaml's order, whatever the order in code",
    );
  });
});
