// Types every operation of the web client from the supergraph's API schema (graphql-codegen's
// client preset): a schema change that breaks an operation fails `npm run build`.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  // Written by `npm run build` from the composed supergraph: plain SDL, no federation internals.
  schema: "generated/schema/api.graphql",
  // Tests use the app's own operations: a document only a test used would still ship in the bundle.
  documents: ["web/src/**/*.{ts,tsx}", "!web/src/gql/**", "!web/src/**/*.test.{ts,tsx}"],
  ignoreNoDocuments: false,
  generates: {
    "web/src/gql/": {
      preset: "client",
      presetConfig: {
        // Apollo Client reads whole objects from its cache; masking would hide fields from it.
        fragmentMasking: false,
      },
      config: {
        scalars: { DateTime: "string", ID: "string", Upload: "File" },
        enumsAsTypes: true,
        useTypeImports: true,
        // Apollo Client adds __typename to every selection; the types say so (optimistic answers carry it).
        nonOptionalTypename: true,
        skipTypeNameForRoot: true,
        strictScalars: true,
      },
    },
  },
  silent: true,
};

export default config;
