// Every schema.prisma change comes with a migration: the SQL from the last migration's
// datamodel to the current schema must be empty (`npm run db:diff` writes the missing one).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SUBGRAPHS } from "../platform/registry";
import { hasDatabase } from "../framework/subgraph";
import { pendingSql } from "../scripts/db-diff";
import { TEST_POSTGRES_URL } from "./stack";

process.env.SCRATCH_DATABASE_URL ??= TEST_POSTGRES_URL;

describe("Prisma schemas and migrations", () => {
  for (const { name: subgraph } of SUBGRAPHS.filter(hasDatabase)) {
    it(`${subgraph}: schema.prisma has no change without a migration`, () => {
      assert.equal(pendingSql(subgraph), "");
    });
  }
});
