// Production refuses the development stand-ins, at the real entry point each container runs:
// the process exits with EX_CONFIG (78) and says, one line each, what to set.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { SERVER_ENTRY, TEST_REDIS_URL } from "./stack";

/** Every secret a process may use, and the Redis every process opens. */
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

  it("a secret the process uses and was not given, and only those; the edge and internal secrets equal, anywhere", async () => {
    const { JWT_SECRET, NODE_ENV, REDIS_URL } = SECRETS;
    const edge = await run(["rest-adapter"], { NODE_ENV, REDIS_URL, JWT_SECRET });
    assert.equal(edge.code, 78, edge.stderr);
    assert.match(edge.stderr, /EDGE_SECRET: production requires it here: this process vouches for, or believes, the client address/);
    assert.doesNotMatch(
      edge.stderr,
      /(INTERNAL_SECRET|JWT_SECRET): production/,
      "the REST adapter holds no internal secret, and was given the token key",
    );
    const gateway = await run(["gateway"], { NODE_ENV, REDIS_URL });
    assert.equal(gateway.code, 78, gateway.stderr);
    for (const secret of ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"])
      assert.match(gateway.stderr, new RegExp(`${secret}: production requires it here`), `${secret}: ${gateway.stderr}`);
    // The user subgraph signs tokens and believes the gateway, but never the edge.
    const user = await run(["user"], { NODE_ENV, REDIS_URL });
    assert.equal(user.code, 78, user.stderr);
    assert.match(user.stderr, /JWT_SECRET: production requires it here/);
    assert.match(user.stderr, /INTERNAL_SECRET: production requires it here/);
    assert.doesNotMatch(user.stderr, /EDGE_SECRET: production/);
    // Workers sign, check and believe nothing: only their database is refused.
    const workers = await run(["relation-workers"], { NODE_ENV, REDIS_URL });
    assert.equal(workers.code, 78, workers.stderr);
    assert.match(workers.stderr, /RELATION_DATABASE_URL/);
    assert.doesNotMatch(workers.stderr, /_SECRET: production/);
    const equal = await run(["video-workers"], { ...SECRETS, EDGE_SECRET: SECRETS.INTERNAL_SECRET });
    assert.equal(equal.code, 78, equal.stderr);
    assert.match(equal.stderr, /EDGE_SECRET, INTERNAL_SECRET: production needs two different secrets/);
  });

  it("TRUST_PROXY=true, in every process", async () => {
    const { code, stderr } = await run(["gateway"], { ...SECRETS, TRUST_PROXY: "true" });
    assert.equal(code, 78, stderr);
    assert.match(stderr, /TRUST_PROXY: production takes the addresses or CIDRs/);
  });
});
