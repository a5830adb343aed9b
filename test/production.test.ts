// Production refuses the development stand-ins, at the real entry point each container runs:
// the process exits with EX_CONFIG (78) and says, one line each, what to set.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { SERVER_ENTRY, TEST_REDIS_URL } from "./stack";

/** Only the secrets production always asks for. */
const SECRETS = {
  NODE_ENV: "production",
  JWT_SECRET: "j".repeat(48),
  INTERNAL_SECRET: "i".repeat(32),
  EDGE_SECRET: "e".repeat(32),
  REDIS_URL: TEST_REDIS_URL,
};

/** Runs the entry with `args` and `env` (nothing else of this process's environment); its exit code and standard error. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER_ENTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ") || "co-located"} did not exit: ${stderr}`));
    }, 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe("production refuses the development stand-ins", () => {
  it("the video subgraph: its embedded database, the embedded storage, its keys and this machine's media URLs", async () => {
    const { code, stderr } = await run(["video"], SECRETS);
    assert.equal(code, 78, stderr);
    for (const variable of ["VIDEO_DATABASE_URL", "S3_ENDPOINT", "S3_ACCESS_KEY, S3_SECRET_KEY", "MEDIA_PUBLIC_BASE_URL"])
      assert.match(stderr, new RegExp(`^video: .*${variable}: |^${variable}: `, "m"), `${variable} is named: ${stderr}`);
  });

  it("the co-located process (a cell): every subgraph's embedded database", async () => {
    const { code, stderr } = await run([], {
      ...SECRETS,
      S3_ENDPOINT: "http://minio:9000",
      S3_ACCESS_KEY: "k",
      S3_SECRET_KEY: "s",
      MEDIA_PUBLIC_BASE_URL: "https://m.example.com/douyin-media",
    });
    assert.equal(code, 78, stderr);
    for (const variable of ["USER_DATABASE_URL", "VIDEO_DATABASE_URL", "RELATION_DATABASE_URL"]) assert.match(stderr, new RegExp(variable));
    assert.doesNotMatch(stderr, /S3_ENDPOINT/, "what is set is not complained about");
  });

  it("the embedded object storage as a service of its own", async () => {
    const { code, stderr } = await run(["storage"], SECRETS);
    assert.equal(code, 78, stderr);
    assert.match(stderr, /the embedded object storage is for development/);
  });

  it("a missing EDGE_SECRET or INTERNAL_SECRET, and the two equal, in every process", async () => {
    const missing = await run(["rest-adapter"], { ...SECRETS, EDGE_SECRET: "" });
    assert.equal(missing.code, 78, missing.stderr);
    assert.match(missing.stderr, /^EDGE_SECRET: production requires a random value/m);
    const both = await run(["user"], { ...SECRETS, EDGE_SECRET: "", INTERNAL_SECRET: "" });
    assert.equal(both.code, 78, both.stderr);
    assert.match(both.stderr, /EDGE_SECRET, INTERNAL_SECRET: production requires a random value/);
    const equal = await run(["gateway"], { ...SECRETS, EDGE_SECRET: SECRETS.INTERNAL_SECRET });
    assert.equal(equal.code, 78, equal.stderr);
    assert.match(equal.stderr, /EDGE_SECRET, INTERNAL_SECRET: production needs two different secrets/);
  });

  it("TRUST_PROXY=true, in every process", async () => {
    const { code, stderr } = await run(["gateway"], { ...SECRETS, TRUST_PROXY: "true" });
    assert.equal(code, 78, stderr);
    assert.match(stderr, /TRUST_PROXY: production takes the addresses or CIDRs/);
  });
});
