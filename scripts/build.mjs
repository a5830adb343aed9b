// Builds what the stack runs from: Prisma clients, resolver types, compiled JavaScript and the
// composed supergraph. A step is skipped when the files it reads are unchanged since its last
// run (content hashes in generated/.build-stamps.json), so `npm start` stays fast after the
// first build. Plain JavaScript because it runs before anything is compiled. `--force` rebuilds.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { webClientStep } from "../web/build-step.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stampsFile = path.join(root, "generated", ".build-stamps.json");
const force = process.argv.includes("--force");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const SUBGRAPHS = ["user", "video", "relation"];
const SOURCE_DIRS = ["common", "gateway", "subgraphs", "rest-adapter", "media", "scripts", "test"];

function walk(dir, accept) {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && accept(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
}

function hashOf(files) {
  const hash = createHash("sha256");
  for (const file of [...files].sort()) {
    hash.update(file);
    hash.update(fs.existsSync(path.join(root, file)) ? fs.readFileSync(path.join(root, file)) : "missing");
  }
  return hash.digest("hex");
}

const steps = [
  {
    name: "prisma clients",
    inputs: () => [...SUBGRAPHS.map((s) => `prisma/${s}/schema.prisma`), "package-lock.json"],
    outputs: SUBGRAPHS.map((s) => `generated/prisma/${s}/client.ts`),
    run: () => {
      for (const s of SUBGRAPHS) execFileSync(bin("prisma"), ["generate", "--config", `prisma/${s}/prisma.config.ts`], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    },
  },
  {
    name: "resolver types",
    inputs: () => [...SUBGRAPHS.map((s) => `subgraphs/${s}/schema.graphql`), "codegen.yml", "package-lock.json"],
    outputs: SUBGRAPHS.map((s) => `generated/graphql/${s}.ts`),
    run: () => execFileSync(bin("graphql-codegen"), ["--config", "codegen.yml", "--silent"], { cwd: root, stdio: "inherit" }),
  },
  {
    name: "TypeScript",
    inputs: () => [
      "tsconfig.json",
      "package-lock.json",
      ...SOURCE_DIRS.flatMap((dir) => walk(dir, (name) => name.endsWith(".ts"))),
      ...walk("generated", (name) => name.endsWith(".ts")),
    ],
    outputs: ["dist/scripts/start.js"],
    run: () => execFileSync(bin("tsc"), ["-p", "."], { cwd: root, stdio: "inherit" }),
  },
  {
    name: "supergraph",
    inputs: () => ["supergraph.yaml", ...SUBGRAPHS.map((s) => `subgraphs/${s}/schema.graphql`), "dist/gateway/supergraph.js"],
    outputs: ["supergraph.graphql"],
    run: () => execFileSync(process.execPath, ["dist/scripts/compose-supergraph.js"], { cwd: root, stdio: "inherit" }),
  },
  webClientStep({ root, bin, walk }),
];

const stamps = fs.existsSync(stampsFile) && !force ? JSON.parse(fs.readFileSync(stampsFile, "utf8")) : {};
for (const step of steps) {
  const hash = hashOf(step.inputs());
  const outputsExist = step.outputs.every((file) => fs.existsSync(path.join(root, file)));
  if (stamps[step.name] === hash && outputsExist) continue;
  const started = Date.now();
  try {
    step.run();
  } catch {
    process.stderr.write(`build: ${step.name} failed\n`);
    process.exit(1);
  }
  stamps[step.name] = hash;
  fs.mkdirSync(path.dirname(stampsFile), { recursive: true });
  fs.writeFileSync(stampsFile, JSON.stringify(stamps, null, 2));
  process.stdout.write(`build: ${step.name} (${Date.now() - started} ms)\n`);
}
