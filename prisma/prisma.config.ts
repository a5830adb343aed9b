// Prisma CLI configuration for one subgraph's database (schema, migrations, JS engine), the
// subgraph named by PRISMA_SUBGRAPH (the build and `npm run db:diff` set it).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

const subgraph = process.env.PRISMA_SUBGRAPH;
if (!subgraph || !/^[a-z][a-z0-9]*$/.test(subgraph)) throw new Error("set PRISMA_SUBGRAPH to a subgraph of supergraph.yaml");

// The CLI only needs a syntactically valid URL here: without one it tries to download a
// native engine. Real connections come from the project's migrate script.
const url = process.env[`${subgraph.toUpperCase()}_DATABASE_URL`] || `postgresql://postgres@127.0.0.1:5432/douyin_${subgraph}`;
process.env.PRISMA_CLI_DATABASE_URL ??= url;

export default defineConfig({
  schema: `./${subgraph}/schema.prisma`,
  migrations: { path: `./${subgraph}/migrations` },
  experimental: { adapter: true },
  engine: "js",
  // A short idle timeout lets the CLI exit as soon as it is done instead of 10 s later.
  adapter: async () => new PrismaPg({ connectionString: url, idleTimeoutMillis: 100 }),
});
