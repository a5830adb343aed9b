// The queue contract both implementations must keep (BullMQ on Redis, and the in-process queues
// of the fast tier): run by test/queues.test.ts against the real Redis server and by
// platform/queues.test.ts in memory.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeferJobError, JobFailedError, JobTimeoutError, PermanentJobError, type Queues } from "../platform/queues";

export function queueContract(name: string, open: () => Promise<{ queues: Queues; close(): Promise<void> }>) {
  describe(name, () => {
    it("runs a job, retries one that failed, and hands back the result", async () => {
      const { queues, close } = await open();
      const attempts = new Map<string, number>();
      queues.work<{ value: number }, number>(
        "echo",
        async (job) => {
          attempts.set(job.id, job.attempt);
          if (job.data.value < 0 && job.attempt === 1) throw new Error("first attempt fails");
          return job.data.value * 2;
        },
        { concurrency: 2 },
      );
      try {
        const echo = queues.queue<{ value: number }, number>("echo");
        assert.equal(await echo.addAndWait("double", { value: 21 }, { timeoutMs: 10_000 }), 42);
        assert.equal(await echo.addAndWait("double", { value: -4 }, { jobId: "flaky", timeoutMs: 10_000 }), -8);
        assert.equal(attempts.get("flaky"), 2, "retried once after the failure");
      } finally {
        await close();
      }
    });

    it("keeps jobs unique by id and remembers them", async () => {
      const { queues, close } = await open();
      let runs = 0;
      queues.work<Record<string, never>, void>("once", async () => void (runs += 1), { concurrency: 1 });
      try {
        const once = queues.queue<Record<string, never>, void>("once");
        assert.equal(await once.has("job-a"), false);
        await once.add("run", {}, { jobId: "job-a" });
        await once.add("run", {}, { jobId: "job-a" });
        await once.addAndWait("run", {}, { jobId: "job-b", timeoutMs: 10_000 });
        assert.equal(await once.has("job-a"), true);
        assert.equal(runs, 2, "job-a ran once although added twice");
      } finally {
        await close();
      }
    });

    it("fails a permanent error at once, and times out a wait without failing the job", async () => {
      const { queues, close } = await open();
      let slowFinished = false;
      queues.work<{ kind: string }, string>(
        "mixed",
        async (job) => {
          if (job.data.kind === "broken") throw new PermanentJobError("cannot work");
          await new Promise((resolve) => setTimeout(resolve, 400));
          slowFinished = true;
          return "late";
        },
        { concurrency: 2 },
      );
      try {
        const mixed = queues.queue<{ kind: string }, string>("mixed");
        await assert.rejects(
          mixed.addAndWait("run", { kind: "broken" }, { timeoutMs: 10_000 }),
          (error: Error) => error instanceof JobFailedError && /cannot work/.test(error.message),
        );
        await assert.rejects(mixed.addAndWait("run", { kind: "slow" }, { timeoutMs: 50 }), JobTimeoutError);
        const deadline = Date.now() + 5000;
        while (!slowFinished && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok(slowFinished, "the job itself went on after the wait gave up");
      } finally {
        await close();
      }
    });

    it("puts a deferred job back, runs the next one meanwhile, then finishes it as the same attempt", async () => {
      const { queues, close } = await open();
      const runs: { id: string; attempt: number; at: number }[] = [];
      let turnTaken = false;
      queues.work<{ defer: boolean }, string>(
        "turns",
        async (job) => {
          runs.push({ id: job.id, attempt: job.attempt, at: Date.now() });
          // The first look at the deferred job steps aside; its next one runs it.
          if (job.data.defer && !turnTaken) {
            turnTaken = true;
            throw new DeferJobError("not its turn", 300);
          }
          return job.id;
        },
        { concurrency: 1 },
      );
      try {
        const turns = queues.queue<{ defer: boolean }, string>("turns");
        const started = Date.now();
        const deferred = turns.addAndWait("run", { defer: true }, { jobId: "deferred", timeoutMs: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(await turns.addAndWait("run", { defer: false }, { jobId: "next", timeoutMs: 10_000 }), "next");
        assert.equal(await deferred, "deferred", "whoever waits for a deferred job gets its result");
        const ofDeferred = runs.filter((run) => run.id === "deferred");
        assert.deepEqual(
          ofDeferred.map((run) => run.attempt),
          [1, 1],
          "a deferral is not an attempt",
        );
        assert.ok(ofDeferred[1]!.at - started >= 300, "it waited its delay");
        assert.ok(runs.findIndex((run) => run.id === "next") < runs.lastIndexOf(ofDeferred[1]!), "the next job ran meanwhile");
      } finally {
        await close();
      }
    });
  });
}
