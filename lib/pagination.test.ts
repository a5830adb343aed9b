import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeCursor, pageAfter, pageOf, type Cursor, type Page } from "./pagination";

/** Rows newest first, two of them sharing a time (the id breaks the tie). */
const rows: Cursor[] = [
  { createdAt: new Date(5000), id: 50n },
  { createdAt: new Date(4000), id: 42n },
  { createdAt: new Date(4000), id: 41n },
  { createdAt: new Date(3000), id: 30n },
  { createdAt: new Date(2000), id: 20n },
];
const same = (row: Cursor) => row;
/** What the store answers: `first + 1` rows after the cursor. */
const storePage = (after: Cursor, first: number) => {
  const start = rows.findIndex((row) => row.createdAt < after.createdAt || (+row.createdAt === +after.createdAt && row.id < after.id));
  return pageOf(start === -1 ? [] : rows.slice(start, start + first + 1), first, same);
};

describe("pageAfter", () => {
  it("cuts the page the store would answer from a cached whole list, ties broken by id", () => {
    const whole: Page<Cursor> = { nodes: rows, hasMore: false, nextCursor: null };
    for (const after of rows) {
      for (const size of [1, 2, 5]) assert.deepEqual(pageAfter(whole, after, size, same), storePage(after, size), `${after.id} ${size}`);
    }
    const next = pageAfter(whole, rows[0]!, 2, same)!;
    assert.deepEqual(decodeCursor(next.nextCursor!), rows[2]);
  });

  it("declines a page that reaches past a cached list that is not whole", () => {
    const truncated: Page<Cursor> = { nodes: rows.slice(0, 3), hasMore: true, nextCursor: null };
    assert.deepEqual(pageAfter(truncated, rows[0]!, 1, same), storePage(rows[0]!, 1));
    assert.equal(pageAfter(truncated, rows[0]!, 2, same), undefined);
    assert.equal(pageAfter(truncated, rows[2]!, 1, same), undefined);
  });
});
