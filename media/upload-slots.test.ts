import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UploadSlots } from "./upload-slots";

describe("upload slots", () => {
  it("refuses a user's and an address's upload past their limits, and frees a slot once, when given back", () => {
    const slots = new UploadSlots({ perUser: 2, perAddress: 3 });
    const first = slots.take(1, "10.0.0.1");
    const second = slots.take(1, "10.0.0.1");
    assert.ok("release" in first && "release" in second);
    const overUser = slots.take(1, "10.0.0.2");
    assert.ok("refusal" in overUser);
    assert.equal(overUser.refusal.code, "RATE_LIMITED");
    assert.match(overUser.refusal.message, /for this user \(at most 2\)/);

    assert.ok("release" in slots.take(2, "10.0.0.1"));
    const overAddress = slots.take(3, "10.0.0.1");
    assert.ok("refusal" in overAddress);
    assert.match(overAddress.refusal.message, /from this address \(at most 3\)/);

    // Given back twice (an answer and a hang-up both end the exchange): one slot, not two.
    first.release();
    first.release();
    assert.ok("release" in slots.take(1, "10.0.0.3"));
    assert.ok("refusal" in slots.take(1, "10.0.0.3"));
  });
});
