// ESLint for the whole tree (run by `npm run lint`, part of `npm test`): TypeScript's
// recommended rules everywhere, React's hook rules in the web client, and nothing that
// Prettier decides (formatting is Prettier's alone).
import fs from "node:fs";
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

// The running system (what the production image runs) may import neither a tool nor a
// devDependency: `npm prune --omit=dev` removes those from the image (test/image.test.ts boots it).
const RUNTIME = ["server", "framework", "platform", "gateway", "rest-adapter", "subgraphs", "media", "lib"].map((dir) => `${dir}/**/*.ts`);
const devDependencies = Object.keys(JSON.parse(fs.readFileSync(new URL("./package.json", import.meta.url), "utf8")).devDependencies);

export default tseslint.config(
  {
    ignores: ["dist/**", "generated/**", "data/**", "node_modules/**", "web/dist/**", "web/src/gql/**", "test-results/**", "coverage/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a binding kept for its position (destructuring, callback parameters).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // CommonJS build: `require` is how optional binaries and compiled subgraphs are loaded.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    files: RUNTIME,
    ignores: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: devDependencies.map((name) => ({
            name,
            message: "a devDependency: the production image does not have it (type-only imports are fine)",
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: devDependencies.map((name) => `${name}/*`),
              message: "a devDependency: the production image does not have it (type-only imports are fine)",
              allowTypeImports: true,
            },
            {
              group: ["**/scripts", "**/scripts/*", "**/test", "**/test/*"],
              message: "tools and tests are leaves: the running system never imports them",
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read loosely shaped JSON answers.
    files: ["**/*.test.ts", "**/*.test.tsx", "test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["web/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    // The rules of hooks, without the React Compiler's stricter set (this client does not use the compiler).
    rules: { "react-hooks/rules-of-hooks": "error", "react-hooks/exhaustive-deps": "error" },
  },
  prettier,
);
