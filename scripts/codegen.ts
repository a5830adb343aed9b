// Generates the GraphQL types, with the list of subgraphs taken from supergraph.yaml:
// - per subgraph, resolver and context types from its SDL (generated/graphql/<name>.ts);
// - typed documents for the REST adapter's operations, checked against the composed API
//   schema, so a typo in an operation or a field fails the build (generated/legacy/);
// - the API schema's types as they travel, for the live events of subscriptions (generated/api/).
// Mapper convention: a schema type `Foo` resolves from the type `FooRecord` when the
// subgraph's store.ts or service.ts exports one; the context type is `<Name>Context` from
// its index.ts. Nothing else needs to be named here when a subgraph is added.
import fs from "node:fs";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { parse, Kind } from "graphql";
import { projectRoot, SUBGRAPHS, type SubgraphEntry } from "../platform/registry";
import { API_SCHEMA_FILE } from "../framework/supergraph";

const GENERATED = path.join(projectRoot, "generated");
const MAPPER_MODULES = ["store", "service"];

const capitalized = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** An import path from a generated file to a source module, without extension. */
function importPath(from: string, module: string): string {
  const relative = path.relative(from, module).split(path.sep).join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}

function mappersOf(entry: SubgraphEntry, outputDir: string): Record<string, string> {
  const sdl = parse(fs.readFileSync(entry.schemaFile, "utf8"));
  const typeNames = sdl.definitions.flatMap((definition) =>
    definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION ? [definition.name.value] : [],
  );
  const mappers: Record<string, string> = {};
  for (const module of MAPPER_MODULES) {
    const file = path.join(entry.folder, `${module}.ts`);
    if (!fs.existsSync(file)) continue;
    const source = fs.readFileSync(file, "utf8");
    for (const typeName of typeNames) {
      if (mappers[typeName]) continue;
      if (new RegExp(`export (type|interface) ${typeName}Record\\b`).test(source)) {
        mappers[typeName] = `${importPath(outputDir, path.join(entry.folder, module))}#${typeName}Record`;
      }
    }
  }
  return mappers;
}

export function codegenConfig(registry: readonly SubgraphEntry[] = SUBGRAPHS) {
  const subgraphDir = path.join(GENERATED, "graphql");
  const generates: Record<string, object> = {};
  for (const entry of registry) {
    generates[path.join(subgraphDir, `${entry.name}.ts`)] = {
      schema: entry.schemaFile,
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: `${importPath(subgraphDir, path.join(entry.folder, "index"))}#${capitalized(entry.name)}Context`,
        mappers: mappersOf(entry, subgraphDir),
        scalars: {
          ID: { input: "string", output: "string | number | bigint" },
          DateTime: { input: "Date", output: "Date | string" },
          Upload: { input: "Promise<import('graphql-upload-minimal').FileUpload>", output: "never" },
        },
      },
    };
  }
  // The public schema's object types as they travel (ids and times as strings): the shapes of
  // the live events the gateway delivers to subscriptions (lib/live-events.ts).
  generates[path.join(GENERATED, "api", "types.ts")] = {
    schema: API_SCHEMA_FILE,
    plugins: ["typescript"],
    config: {
      useTypeImports: true,
      enumsAsTypes: true,
      skipTypename: true,
      scalars: { ID: "string", DateTime: "string", Upload: "unknown" },
    },
  };
  generates[path.join(GENERATED, "legacy") + "/"] = {
    schema: API_SCHEMA_FILE,
    documents: [path.join(projectRoot, "rest-adapter", "**", "*.ts")],
    preset: "client",
    // Route mappings read fragment fields directly; masking would hide them.
    presetConfig: { fragmentMasking: false },
    config: {
      documentMode: "string",
      useTypeImports: true,
      enumsAsTypes: true,
      scalars: { ID: "string", DateTime: "string", Upload: "unknown" },
    },
  };
  return { overwrite: true, silent: true, errorsOnly: true, generates };
}

if (require.main === module) {
  generate({ ...codegenConfig(), cwd: projectRoot }, true).then(
    () => process.stdout.write(`generated GraphQL types for ${SUBGRAPHS.map((entry) => entry.name).join(", ")} and the REST adapter\n`),
    (error: Error) => {
      process.stderr.write(`codegen failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}
