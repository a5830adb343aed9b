// `npm run compose`: writes supergraph.graphql and the API schema from supergraph.yaml; a
// composition error fails the build with the composition's own messages, and every hint is
// printed.
import fs from "node:fs";
import path from "node:path";
import { SUBGRAPHS } from "../platform/registry";
import { API_SCHEMA_FILE, composeSupergraph, CompositionError, SUPERGRAPH_FILE } from "../framework/supergraph";

try {
  const { supergraphSdl, apiSdl, hints } = composeSupergraph(SUBGRAPHS);
  for (const hint of hints) process.stderr.write(`composition hint: ${hint}\n`);
  fs.writeFileSync(SUPERGRAPH_FILE, supergraphSdl);
  fs.mkdirSync(path.dirname(API_SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(API_SCHEMA_FILE, apiSdl);
  process.stdout.write(`composed ${path.basename(SUPERGRAPH_FILE)} from ${SUBGRAPHS.map((s) => s.name).join(", ")}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof CompositionError ? error.message : String(error)}\n`);
  process.exit(1);
}
