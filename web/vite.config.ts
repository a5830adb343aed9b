// Builds the web client into web/dist (served by the gateway at `/`), runs it under Vite's dev
// server against a running stack (`npm run web:dev`), and configures its Vitest component tier.
import { gzipSync } from "node:zlib";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vitest/config";

// Loaded as ESM (`--configLoader runner`): the root package is CommonJS, this file is not.
const webRoot = path.dirname(fileURLToPath(import.meta.url));
/** Where `web:dev` sends /graphql: the gateway of a stack started with `npm start`. */
const gatewayPort = process.env.GATEWAY_PORT ?? "4000";
/** Files worth compressing ahead of time; the gateway serves the .gz beside them (preCompressed). */
const COMPRESSIBLE = /\.(js|css|svg|json)$/;

/** Writes a gzip copy of each built asset, so the gateway never compresses on the fly. */
function precompress(): Plugin {
  return {
    name: "douyin:precompress",
    apply: "build",
    writeBundle(options, bundle) {
      const outDir = options.dir ?? path.join(webRoot, "dist");
      for (const fileName of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(fileName)) continue;
        const file = path.join(outDir, fileName);
        fs.writeFileSync(`${file}.gz`, gzipSync(fs.readFileSync(file), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: webRoot,
  plugins: [react(), precompress()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsDir: "assets",
    // The budget is for what a phone downloads first; report sizes so a regression shows.
    reportCompressedSize: true,
  },
  server: {
    host: "127.0.0.1",
    // WebSocket upgrades too: subscriptions share /graphql with HTTP.
    proxy: { "/graphql": { target: `http://127.0.0.1:${gatewayPort}`, ws: true } },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
