// Prisma CLI configuration for the video subgraph's database (schema, migrations, JS engine).
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

// The CLI only needs a syntactically valid URL here: without one it tries to download a
// native engine. Real connections come from the project's migrate script.
const url = process.env.VIDEO_DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/douyin_video";
process.env.PRISMA_CLI_DATABASE_URL ??= url;

export default defineConfig({
  schema: "./schema.prisma",
  migrations: { path: "./migrations" },
  experimental: { adapter: true },
  engine: "js",
  // A short idle timeout lets the CLI exit as soon as it is done instead of 10 s later.
  adapter: async () => new PrismaPg({ connectionString: url, idleTimeoutMillis: 100 }),
});
