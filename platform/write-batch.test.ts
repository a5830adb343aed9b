// Group commit (fast tier): writes requested together share statements, one per kind, and
// writes to one key keep their order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteBatcher } from "./write-batch";

interface Toggle {
  kind: "on" | "off";
  key: string;
}

describe("WriteBatcher", () => {
  it("runs concurrent writes as one statement per kind, and repeats of a key in later rounds, in order", async () => {
    const state = new Map<string, boolean>();
    const statements: string[] = [];
    const batcher = new WriteBatcher<Toggle, boolean>(async (kind, writes) => {
      statements.push(`${kind}:${writes.map((write) => write.key).join(",")}`);
      assert.equal(new Set(writes.map((write) => write.key)).size, writes.length, "keys are distinct within a statement");
      return writes.map((write) => {
        const changed = (state.get(write.key) ?? false) !== (kind === "on");
        state.set(write.key, kind === "on");
        return changed;
      });
    });
    const results = await Promise.all([
      batcher.write({ kind: "on", key: "a" }),
      batcher.write({ kind: "off", key: "b" }),
      batcher.write({ kind: "on", key: "c" }),
      batcher.write({ kind: "off", key: "a" }),
      batcher.write({ kind: "on", key: "a" }),
    ]);
    assert.deepEqual(statements, ["on:a,c", "off:b", "off:a", "on:a"]);
    assert.deepEqual(results, [true, false, true, true, true], "a: on, then off, then on again, each seeing the one before");
    assert.equal(state.get("a"), true);
  });

  it("fails the writes of a failed statement only", async () => {
    const batcher = new WriteBatcher<Toggle, boolean>(async (kind, writes) => {
      if (kind === "off") throw new Error("refused");
      return writes.map(() => true);
    });
    const [on, off] = await Promise.allSettled([batcher.write({ kind: "on", key: "x" }), batcher.write({ kind: "off", key: "y" })]);
    assert.deepEqual(on, { status: "fulfilled", value: true });
    assert.equal(off.status, "rejected");
  });
});
