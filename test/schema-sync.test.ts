// Every schema.prisma change comes with a migration: the SQL from the last migration's
// datamodel to the current schema must be empty (`npm run db:diff` writes the missing one).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SUBGRAPH_NAMES } from "../common/config";
import { pendingSql } from "../scripts/db-diff";
import { TEST_POSTGRES_URL } from "./stack";

process.env.SCRATCH_DATABASE_URL ??= TEST_POSTGRES_URL;

describe("Prisma schemas and migrations", () => {
  for (const subgraph of SUBGRAPH_NAMES) {
    it(`${subgraph}: schema.prisma has no change without a migration`, () => {
      assert.equal(pendingSql(subgraph), "");
    });
  }
});
