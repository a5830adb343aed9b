// The migration runner against the real PostgreSQL server and against embedded PGlite.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { TEST_POSTGRES_URL } from "./stack";
import { isUniqueViolation, openDatabase } from "../platform/database";
import { migrate, MigrationError, readMigrations } from "../platform/migrations";
import { subgraphEntry } from "../platform/registry";
import { migrationsDir } from "../framework/subgraph-database";
import { PrismaClient } from "../generated/prisma/user/client";

const name = `douyin_test_migrate_${randomBytes(4).toString("hex")}`;
const url = Object.assign(new URL(TEST_POSTGRES_URL), { pathname: `/${name}` }).toString();

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

describe("migrations on PostgreSQL", () => {
  after(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

  it("creates the database, applies every migration once and records it as Prisma does", async () => {
    const database = await openDatabase({ kind: "postgres", url }, { poolSize: 2, createIfMissing: true });
    try {
      const expected = readMigrations(migrationsDir(subgraphEntry("user")));
      assert.deepEqual(
        await migrate(database, migrationsDir(subgraphEntry("user"))),
        expected.map((m) => m.name),
      );
      assert.deepEqual(await migrate(database, migrationsDir(subgraphEntry("user"))), [], "nothing pending the second time");
      const rows = await database.withSession((s) =>
        s.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
          `SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`,
        ),
      );
      assert.deepEqual(
        rows.map((r) => [r.migration_name, r.checksum, r.finished_at !== null, r.applied_steps_count]),
        expected.map((m) => [m.name, createHash("sha256").update(m.sql).digest("hex"), true, 1]),
      );
    } finally {
      await database.close();
    }
  });

  it("creates a missing database once when several processes open it at the same instant", async () => {
    const racing = `${name}_race`;
    const racingUrl = Object.assign(new URL(TEST_POSTGRES_URL), { pathname: `/${racing}` }).toString();
    try {
      const opened = await Promise.allSettled(
        Array.from({ length: 8 }, () => openDatabase({ kind: "postgres", url: racingUrl }, { poolSize: 1, createIfMissing: true })),
      );
      const failures = opened.filter((result) => result.status === "rejected").map((result) => String(result.reason));
      assert.deepEqual(failures, [], "every opener gets the database");
      for (const result of opened) if (result.status === "fulfilled") await result.value.close();
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${racing} WITH (FORCE)`);
    }
  });

  it("refuses a migration edited after it was applied, and rolls back one that fails", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "migrations-"));
    fs.cpSync(migrationsDir(subgraphEntry("user")), dir, { recursive: true });
    const database = await openDatabase({ kind: "postgres", url }, { poolSize: 2 });
    try {
      const first = readMigrations(dir)[0]!;
      fs.appendFileSync(path.join(dir, first.name, "migration.sql"), "\n-- edited\n");
      await assert.rejects(migrate(database, dir), (error: Error) => error instanceof MigrationError && /edited/.test(error.message));

      fs.writeFileSync(path.join(dir, first.name, "migration.sql"), first.sql);
      fs.mkdirSync(path.join(dir, "29990101000000_broken"));
      fs.writeFileSync(
        path.join(dir, "29990101000000_broken", "migration.sql"),
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();",
      );
      await assert.rejects(migrate(database, dir), /29990101000000_broken failed/);
      const leftovers = await database.withSession((s) => s.query(`SELECT to_regclass('half_done') AS t`));
      assert.equal(leftovers[0]!.t, null, "the failed migration left nothing behind");
    } finally {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("embedded PGlite database", () => {
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pglite-"));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("migrates, serves Prisma, reports unique violations, and keeps data across a reopen", async () => {
    let database = await openDatabase({ kind: "embedded", dataDir, schema: "user", synchronousCommit: true }, { poolSize: 1 });
    await migrate(database, migrationsDir(subgraphEntry("user")));
    let prisma = new PrismaClient({ adapter: database.adapter });
    await prisma.user.create({ data: { id: 1n, username: "kept", passwordHash: "h" } });
    await assert.rejects(prisma.user.create({ data: { id: 2n, username: "kept", passwordHash: "h" } }), (error) =>
      isUniqueViolation(error),
    );
    await prisma.$disconnect();
    await database.close();

    database = await openDatabase({ kind: "embedded", dataDir, schema: "user", synchronousCommit: true }, { poolSize: 1 });
    assert.deepEqual(await migrate(database, migrationsDir(subgraphEntry("user"))), []);
    prisma = new PrismaClient({ adapter: database.adapter });
    assert.equal((await prisma.user.findUnique({ where: { username: "kept" } }))?.id, 1n);
    await prisma.$disconnect();
    await database.close();
  });

  it("keeps each subgraph in its own schema of one instance, with its own migration history", async () => {
    const first = await openDatabase({ kind: "embedded", dataDir, schema: "first", synchronousCommit: true }, { poolSize: 1 });
    const second = await openDatabase({ kind: "embedded", dataDir, schema: "second", synchronousCommit: true }, { poolSize: 1 });
    try {
      const migrations = migrationsDir(subgraphEntry("user"));
      assert.ok((await migrate(first, migrations)).length > 0);
      assert.ok((await migrate(second, migrations)).length > 0, "the second schema has its own _prisma_migrations");
      const firstClient = new PrismaClient({ adapter: first.adapter });
      const secondClient = new PrismaClient({ adapter: second.adapter });
      // The same table in two schemas, written and read in interleaved order: no row leaks across.
      await Promise.all([
        firstClient.user.create({ data: { id: 1n, username: "in-first", passwordHash: "h" } }),
        secondClient.user.create({ data: { id: 1n, username: "in-second", passwordHash: "h" } }),
      ]);
      const [inFirst, inSecond] = await Promise.all([firstClient.user.findMany(), secondClient.user.findMany()]);
      assert.deepEqual(
        inFirst.map((user) => user.username),
        ["in-first"],
      );
      assert.deepEqual(
        inSecond.map((user) => user.username),
        ["in-second"],
      );
      // Raw SQL runs with the subgraph's schema as search_path.
      const raw = await second.withSession((session) => session.query<{ username: string }>("SELECT username FROM users"));
      assert.deepEqual(
        raw.map((row) => row.username),
        ["in-second"],
      );
      await firstClient.$disconnect();
      await secondClient.$disconnect();
    } finally {
      await first.close();
      await second.close();
    }
  });
});
