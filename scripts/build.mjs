// Builds what the stack runs from: the build's own tools, Prisma clients, the composed
// supergraph and API schema, GraphQL types, and the compiled JavaScript. A step is skipped when
// the files it reads are unchanged since its last run (content hashes in
// generated/.build-stamps.json), so `npm start` stays fast after the first build. The list of
// subgraphs comes from supergraph.yaml through the compiled registry. Plain JavaScript because
// it runs before anything is compiled. `--force` rebuilds everything.
import { createHash } from "node:crypto";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { webClientStep } from "../web/build-step.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const stampsFile = path.join(root, "generated", ".build-stamps.json");
const force = process.argv.includes("--force");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const SOURCE_DIRS = ["server", "framework", "platform", "lib", "gateway", "subgraphs", "rest-adapter", "media", "scripts", "test"];

function walk(dir, accept) {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs
    .readdirSync(full, { withFileTypes: true, recursive: true })
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

/** The subgraphs of supergraph.yaml, from the compiled registry (available after the first step). */
const registry = () => require(path.join(root, "dist", "platform", "registry.js")).readRegistry();

/** Removes compiled files whose TypeScript source is gone, so stale tests and modules never run. */
function pruneStaleOutputs() {
  for (const file of walk("dist", (name) => name.endsWith(".js"))) {
    const source = file.replace(/^dist\//, "").replace(/\.js$/, ".ts");
    if (fs.existsSync(path.join(root, source))) continue;
    for (const output of [file, `${file}.map`, file.replace(/\.js$/, ".d.ts")]) fs.rmSync(path.join(root, output), { force: true });
  }
}

const steps = [
  {
    name: "build tools",
    inputs: () => [
      "tsconfig.json",
      "tsconfig.tools.json",
      "package-lock.json",
      ...walk("platform", (n) => n.endsWith(".ts")),
      ...walk("framework", (n) => n.endsWith(".ts")),
      ...walk("scripts", (n) => n.endsWith(".ts")),
    ],
    outputs: ["dist/scripts/codegen.js", "dist/scripts/compose-supergraph.js"],
    run: () => execFileSync(bin("tsc"), ["-p", "tsconfig.tools.json"], { cwd: root, stdio: "inherit" }),
  },
  {
    name: "prisma clients",
    inputs: () => ["supergraph.yaml", "package-lock.json", ...walk("prisma", (n) => n === "schema.prisma" || n === "prisma.config.ts")],
    outputs: () =>
      registry()
        .filter((entry) => fs.existsSync(path.join(entry.prismaFolder, "schema.prisma")))
        .map((entry) => `generated/prisma/${entry.name}/client.ts`),
    run: () => {
      for (const entry of registry()) {
        if (!fs.existsSync(path.join(entry.prismaFolder, "schema.prisma"))) continue;
        // The CLI chats on stderr; its output is shown only when it fails.
        const result = spawnSync(bin("prisma"), ["generate", "--config", "prisma/prisma.config.ts"], {
          cwd: root,
          encoding: "utf8",
          env: { ...process.env, PRISMA_SUBGRAPH: entry.name },
        });
        if (result.status !== 0) {
          process.stderr.write(`${result.stdout}${result.stderr}`);
          throw new Error(`prisma generate failed for ${entry.name}`);
        }
      }
    },
  },
  {
    name: "supergraph",
    inputs: () => ["supergraph.yaml", "dist/scripts/compose-supergraph.js", ...walk("subgraphs", (n) => n.endsWith(".graphql"))],
    outputs: ["supergraph.graphql", "generated/schema/api.graphql"],
    run: () => execFileSync(process.execPath, ["dist/scripts/compose-supergraph.js"], { cwd: root, stdio: "inherit" }),
  },
  {
    name: "graphql types",
    inputs: () => [
      "package-lock.json",
      "dist/scripts/codegen.js",
      "generated/schema/api.graphql",
      ...walk("subgraphs", (n) => n.endsWith(".graphql") || n === "store.ts" || n === "service.ts"),
      ...walk("rest-adapter", (n) => n.endsWith(".ts")),
    ],
    outputs: ["generated/legacy/gql.ts", "generated/api/types.ts"],
    run: () => execFileSync(process.execPath, ["dist/scripts/codegen.js"], { cwd: root, stdio: "inherit" }),
  },
  {
    name: "TypeScript",
    inputs: () => [
      "tsconfig.json",
      "package-lock.json",
      ...SOURCE_DIRS.flatMap((dir) => walk(dir, (name) => name.endsWith(".ts"))),
      ...walk("generated", (name) => name.endsWith(".ts")),
    ],
    outputs: ["dist/server/main.js"],
    run: () => {
      execFileSync(bin("tsc"), ["-p", "."], { cwd: root, stdio: "inherit" });
      pruneStaleOutputs();
    },
  },
  webClientStep({ root, bin, walk }),
];

const stamps = fs.existsSync(stampsFile) && !force ? JSON.parse(fs.readFileSync(stampsFile, "utf8")) : {};
for (const step of steps) {
  const hash = hashOf(step.inputs());
  const outputs = typeof step.outputs === "function" ? step.outputs() : step.outputs;
  const outputsExist = outputs.every((file) => fs.existsSync(path.join(root, file)));
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
