// Composition is a test: supergraph.yaml must compose, without hints, into a supergraph whose
// User entity gathers its fields from all three subgraphs.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { buildSchema, isObjectType } from "graphql";
import { readRegistry, SUBGRAPHS, SUPERGRAPH_CONFIG } from "../platform/registry";
import { composeSupergraph, CompositionError } from "../framework/supergraph";

describe("supergraph composition", () => {
  it("composes supergraph.yaml with no hints", () => {
    const { supergraphSdl, hints } = composeSupergraph(SUBGRAPHS);
    assert.deepEqual(hints, []);
    const schema = buildSchema(supergraphSdl);
    const user = schema.getType("User");
    assert.ok(isObjectType(user));
    for (const field of ["name", "avatar", "workCount", "favoriteCount", "totalFavorited", "followCount", "followerCount", "isFollow"]) {
      assert.ok(user.getFields()[field], `User.${field} is in the supergraph`);
    }
    assert.match(supergraphSdl, /join__graph\(name: "relation", url: "http:\/\/127\.0\.0\.1:4003\/graphql"\)/);
  });

  it("fails with the composition's own messages when subgraphs disagree", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-"));
    try {
      fs.writeFileSync(path.join(dir, "a.graphql"), `type Query { a: Thing } type Thing @key(fields: "id") { id: ID! n: Int }`);
      fs.writeFileSync(path.join(dir, "b.graphql"), `type Query { b: Thing } type Thing @key(fields: "id") { id: ID! n: String }`);
      const config = path.join(dir, "supergraph.yaml");
      fs.writeFileSync(
        config,
        [
          "subgraphs:",
          "  a: { routing_url: http://a, schema: { file: a.graphql } }",
          "  b: { routing_url: http://b, schema: { file: b.graphql } }",
        ].join("\n"),
      );
      assert.throws(
        () => composeSupergraph(readRegistry(config)),
        (error: Error) => error instanceof CompositionError && /Thing\.n/.test(error.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.ok(fs.existsSync(SUPERGRAPH_CONFIG));
  });
});
