// `npm run db:diff -- <subgraph> <name>`: writes a new migration with the SQL that takes the
// database from the last migration's datamodel to the current schema.prisma, using
// `prisma migrate diff` (the offline-capable part of the Prisma CLI). Each migration folder
// keeps a copy of the datamodel it leads to (schema.prisma), the starting point of the next
// diff. `--check` only reports whether schema.prisma has changes without a migration.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { readMigrations } from "../platform/migrations";
import { projectRoot, SUBGRAPHS, subgraphEntry } from "../platform/registry";
import { hasDatabase } from "../framework/subgraph";
import { migrationsDir } from "../framework/subgraph-database";

const PRISMA = path.join(projectRoot, "node_modules", ".bin", "prisma");
// The CLI's JavaScript engine connects to a database even to diff two files; any existing one does.
const scratchDatabaseUrl = () => process.env.SCRATCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** The SQL from the last migration's datamodel to schema.prisma ("" when they agree). */
export function pendingSql(subgraph: string): string {
  const entry = subgraphEntry(subgraph);
  const dir = migrationsDir(entry);
  const last = readMigrations(dir).at(-1);
  const from = last ? ["--from-schema-datamodel", path.join(dir, last.name, "schema.prisma")] : ["--from-empty"];
  const output = execFileSync(
    PRISMA,
    [
      "migrate",
      "diff",
      "--config",
      "prisma/prisma.config.ts",
      ...from,
      "--to-schema-datamodel",
      path.join(entry.prismaFolder, "schema.prisma"),
      "--script",
    ],
    {
      cwd: projectRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PRISMA_SUBGRAPH: subgraph, [`${entry.envPrefix}_DATABASE_URL`]: scratchDatabaseUrl() },
    },
  );
  return /^\s*(--[^\n]*\n?)*\s*$/.test(output) || /This is an empty migration/.test(output) ? "" : output;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function main(): void {
  const [subgraph, name] = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  if (process.argv.includes("--check")) {
    const stale = SUBGRAPHS.filter(hasDatabase)
      .map((entry) => entry.name)
      .filter((name) => pendingSql(name) !== "");
    for (const s of stale) process.stderr.write(`${s}: schema.prisma has changes without a migration (npm run db:diff -- ${s} <name>)\n`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  const names = SUBGRAPHS.filter(hasDatabase).map((entry) => entry.name);
  if (!names.includes(subgraph ?? "") || !name || !/^[a-z0-9_]+$/.test(name)) {
    process.stderr.write(`usage: npm run db:diff -- <${names.join("|")}> <snake_case_name>\n`);
    process.exit(64);
  }
  const entry = subgraphEntry(subgraph!);
  const sql = pendingSql(entry.name);
  if (sql === "") {
    process.stdout.write(`${subgraph}: schema.prisma matches the last migration; nothing to write\n`);
    return;
  }
  const folder = path.join(migrationsDir(entry), `${timestamp()}_${name}`);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "migration.sql"), sql);
  fs.copyFileSync(path.join(entry.prismaFolder, "schema.prisma"), path.join(folder, "schema.prisma"));
  process.stdout.write(`wrote ${path.relative(projectRoot, folder)}/migration.sql — review it, then commit; never edit it once applied\n`);
}

if (require.main === module) main();
