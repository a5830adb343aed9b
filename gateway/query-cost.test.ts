// The query cost analysis (fast tier): every operation our own clients send fits the default
// limits with room to spare, and the fan-out shapes an attacker sends do not, however their
// page sizes are given.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { buildSchema, Kind, parse, type DocumentNode, type OperationDefinitionNode } from "graphql";
import * as legacyDocuments from "../generated/legacy/graphql";
import { loadConfig, projectRoot } from "../platform/config";
import { API_SCHEMA_FILE } from "../framework/supergraph";
import { measure, type CostLimits } from "./query-cost";
import { countFetches } from "./request-limits";

const schema = buildSchema(fs.readFileSync(API_SCHEMA_FILE, "utf8"));
const config = loadConfig({});
const limits: CostLimits = {
  maxCost: config.graphql.maxCost,
  maxItems: config.graphql.maxItems,
  listDefault: config.limits.listDefault,
  listMax: config.limits.listMax,
};

const operationOf = (document: DocumentNode) =>
  document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;

const cost = (query: string | DocumentNode, variables: Record<string, unknown> = {}) => {
  const document = typeof query === "string" ? parse(query) : query;
  return measure(schema, document, operationOf(document), variables, limits);
};

/** The web client's operations, as its codegen wrote them (JSON documents, one per line). */
function webDocuments(): [string, DocumentNode][] {
  const file = path.join(projectRoot, "web", "src", "gql", "graphql.ts");
  const found: [string, DocumentNode][] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^export const (\w+)Document = (\{.*\}) as unknown as DocumentNode/.exec(line);
    if (match) found.push([match[1]!, JSON.parse(match[2]!) as DocumentNode]);
  }
  return found;
}

describe("query cost", () => {
  it("lets every legacy operation through at the largest page size, with room to spare", () => {
    const documents = Object.entries(legacyDocuments).filter(([name]) => name.endsWith("Document"));
    assert.ok(documents.length >= 15, `found ${documents.length} legacy documents`);
    for (const [name, document] of documents) {
      const measured = cost(String(document), { first: 1_000_000, ids: [] });
      assert.ok(measured.cost * 2 <= limits.maxCost, `${name} costs ${measured.cost}`);
      assert.ok(measured.items * 2 <= limits.maxItems, `${name} returns up to ${measured.items} objects`);
    }
  });

  it("lets every web client operation through at its default page sizes", () => {
    const documents = webDocuments();
    assert.ok(documents.length >= 10, `found ${documents.length} web documents`);
    for (const [name, document] of documents) {
      const measured = cost(document);
      assert.ok(measured.cost <= limits.maxCost && measured.items <= limits.maxItems, `${name}: ${JSON.stringify(measured)}`);
    }
  });

  it("counts list sizes from literals, variables and defaults alike, multiplied down the nesting", () => {
    const literal = cost(`{ user(id: "1") { followers(first: 20) { nodes { followers(first: 20) { nodes { id } } } } } }`);
    const variable = cost(
      `query ($n: Int) { user(id: "1") { followers(first: $n) { nodes { followers(first: $n) { nodes { id } } } } } }`,
      {
        n: 20,
      },
    );
    assert.deepEqual(variable, literal);
    // user + connection + 20 nodes + 20 connections + 400 nodes
    assert.equal(literal.items, 1 + 1 + 20 + 20 + 400);
    const byDefault = cost(`{ user(id: "1") { followers { nodes { followers { nodes { id } } } } } }`);
    assert.equal(byDefault.items, 1 + 1 + 30 + 30 + 900);
    // A size past the list maximum counts as the maximum (the server would cut it there).
    const huge = cost(`{ user(id: "1") { followers(first: 100000) { nodes { id } } } }`);
    assert.equal(huge.items, 1 + 1 + limits.listMax);
    // A list argument sizes its list; aliases add up.
    const users = cost(`{ a: users(ids: ["1", "2", "3"]) { id } b: users(ids: ["4"]) { id } }`);
    assert.equal(users.items, 4);
  });

  it("puts the ten-alias, four-level follower fan-out far over the limits", () => {
    const level = (depth: number): string => (depth === 0 ? "id" : `id followers(first: $n) { nodes { ${level(depth - 1)} } }`);
    const query = `query ($ids: [ID!]!, $n: Int) { ${Array.from({ length: 10 }, (_, i) => `a${i}: users(ids: $ids) { ${level(4)} }`).join(" ")} }`;
    const measured = cost(query, { ids: Array.from({ length: 12 }, (_, i) => String(i)), n: 30 });
    assert.ok(measured.items > 1000 * limits.maxItems, JSON.stringify(measured));
  });
});

describe("fetch count of a query plan", () => {
  it("counts fetches in sequences, parallels, flattens and both branches of a condition", () => {
    const fetch = { kind: "Fetch" } as const;
    const plan = {
      kind: "QueryPlan",
      node: {
        kind: "Sequence",
        nodes: [
          fetch,
          {
            kind: "Parallel",
            nodes: [
              { kind: "Flatten", node: fetch },
              { kind: "Flatten", node: fetch },
            ],
          },
          { kind: "Condition", ifClause: fetch, elseClause: { kind: "Sequence", nodes: [fetch, fetch] } },
        ],
      },
    };
    assert.equal(countFetches(plan as never), 6);
  });
});
