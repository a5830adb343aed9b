// Writes supergraph.graphql from supergraph.yaml; a composition error fails the build with
// the composition's own messages, and every hint is printed.
import fs from "node:fs";
import { composeSupergraph, CompositionError, SUPERGRAPH_FILE } from "../gateway/supergraph";

try {
  const { supergraphSdl, hints } = composeSupergraph();
  for (const hint of hints) process.stderr.write(`composition hint: ${hint}\n`);
  fs.writeFileSync(SUPERGRAPH_FILE, supergraphSdl);
  process.stdout.write(`composed ${SUPERGRAPH_FILE}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof CompositionError ? error.message : String(error)}\n`);
  process.exit(1);
}
