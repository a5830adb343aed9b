// The web client's step of scripts/build.mjs: codegen (operations typed from the supergraph's
// API schema), a strict type check (so a schema change that breaks the client fails the build),
// then Vite's production build into web/dist. `node web/build-step.mjs` runs it unconditionally.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SCHEMA = "generated/schema/api.graphql";
/** Not inputs: what this step writes, and documentation (the README and its screenshots). */
const NOT_INPUTS = ["web/dist/", "web/src/gql/", "web/screenshots/", "web/README.md"];

function run(root, bin) {
  if (!fs.existsSync(path.join(root, SCHEMA))) {
    process.stderr.write(`build: web client skipped: ${SCHEMA} is missing (it is written from the composed supergraph)\n`);
    return;
  }
  const options = { cwd: root, stdio: "inherit" };
  execFileSync(bin("graphql-codegen"), ["--config", "web/codegen.ts"], options);
  execFileSync(bin("tsc"), ["-p", "web/tsconfig.json"], options);
  execFileSync(bin("vite"), ["build", "--config", "web/vite.config.ts", "--configLoader", "runner", "--logLevel", "warn"], options);
}

/** The step as scripts/build.mjs runs it: skipped while web/ and the schema are unchanged. */
export function webClientStep({ root, bin, walk }) {
  return {
    name: "web client",
    inputs: () => [
      SCHEMA,
      "package-lock.json",
      ...walk("web", () => true).filter((file) => !NOT_INPUTS.some((prefix) => file.split(path.sep).join("/").startsWith(prefix))),
    ],
    outputs: ["web/dist/index.html"],
    run: () => run(root, bin),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  try {
    run(root, (name) => path.join(root, "node_modules", ".bin", name));
  } catch {
    process.exit(1);
  }
}
