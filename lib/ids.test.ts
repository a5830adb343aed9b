import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeId, ID_EPOCH_MS, IdGenerator, parseId } from "./ids";

describe("IdGenerator", () => {
  it("gives a million unique, strictly increasing, safe ids across interleaved workers", () => {
    const workers = Array.from({ length: 8 }, (_, workerId) => new IdGenerator(workerId));
    const last = new Array<number>(workers.length).fill(0);
    const seen = new Set<number>();
    let previousTime = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const w = i % workers.length;
      const id = workers[w]!.next();
      assert.ok(Number.isSafeInteger(id) && id > 0);
      assert.ok(id > last[w]!, "each worker's ids increase");
      last[w] = id;
      seen.add(id);
      const { timestampMs, workerId } = decodeId(id);
      assert.equal(workerId, w);
      // Across workers, ids are ordered by their time: a later id never carries an earlier time.
      assert.ok(timestampMs >= previousTime);
      previousTime = timestampMs;
    }
    assert.equal(seen.size, 1_000_000);
  });

  it("waits for the next millisecond when the sequence of one runs out", () => {
    let now = ID_EPOCH_MS + 1000;
    let calls = 0;
    const generator = new IdGenerator(3, () => {
      calls += 1;
      // The clock advances only after being asked many times, like a real spin-wait.
      if (calls > 200) now += 1;
      return now;
    });
    const ids = Array.from({ length: 129 }, () => generator.next());
    assert.equal(decodeId(ids[127]!).timestampMs, ID_EPOCH_MS + 1000);
    assert.equal(decodeId(ids[127]!).sequence, 127);
    assert.equal(decodeId(ids[128]!).timestampMs, ID_EPOCH_MS + 1001, "the 129th id moved to the next millisecond");
    assert.equal(decodeId(ids[128]!).sequence, 0);
  });

  it("waits out a small step back of the clock", () => {
    const t = ID_EPOCH_MS + 50_000;
    // The clock reads t, then jumps 3 ms back and creeps forward one millisecond per reading.
    const readings = [t, t - 3, t - 3, t - 2, t - 1, t, t, t + 1];
    let index = 0;
    const generator = new IdGenerator(1, () => readings[Math.min(index++, readings.length - 1)]!);
    const first = generator.next();
    const second = generator.next();
    assert.ok(second > first);
    assert.equal(decodeId(second).timestampMs, t, "it waited until the clock was back at t");
    assert.ok(index > 3, "it read the clock again while waiting");
  });

  it("stays unique and ordered on logical time when the clock moves back a lot", () => {
    let now = ID_EPOCH_MS + 50_000;
    const generator = new IdGenerator(1, () => now);
    const ids = Array.from({ length: 10 }, () => generator.next());
    now -= 60_000;
    for (let i = 0; i < 1000; i++) ids.push(generator.next());
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, `id ${i} is greater than the one before`);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("refuses worker ids outside its five bits", () => {
    assert.throws(() => new IdGenerator(32), RangeError);
    assert.throws(() => new IdGenerator(-1), RangeError);
  });
});

describe("parseId", () => {
  it("accepts positive safe integers and nothing else", () => {
    assert.equal(parseId("42"), 42);
    assert.equal(parseId(42), 42);
    assert.equal(parseId(" 7 "), 7);
    assert.equal(parseId(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    for (const bad of ["", "0", "-1", "1.5", "1e3", "abc", "9007199254740992", "99999999999999999999", null, undefined, {}, 0, -3, 1.5]) {
      assert.equal(parseId(bad), undefined, String(bad));
    }
  });
});
