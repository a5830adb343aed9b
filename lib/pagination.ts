// Keyset (cursor) pagination shared by every list: newest first by (createdAt, id), with an
// opaque cursor naming the last row of a page, and the rule for page sizes.
import { badInput } from "./errors";

export interface Cursor {
  createdAt: Date;
  id: bigint;
}

export interface Page<Node> {
  nodes: Node[];
  nextCursor: string | null;
  hasMore: boolean;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAt.getTime()}:${cursor.id}`).toString("base64url");
}

/** Undefined for a cursor we did not make. */
export function decodeCursor(cursor: string): Cursor | undefined {
  const match = /^(\d{1,15}):(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString());
  return match ? { createdAt: new Date(Number(match[1])), id: BigInt(match[2]!) } : undefined;
}

/** The cursor a client passed back, or null for the first page; BAD_USER_INPUT for one we did not make. */
export function readCursor(after: string | null | undefined): Cursor | null {
  if (after === null || after === undefined || after === "") return null;
  const cursor = decodeCursor(after);
  if (!cursor) throw badInput("invalid cursor");
  return cursor;
}

export interface PageLimits {
  /** Page size when none is asked for. */
  listDefault: number;
  /** Largest page size served; larger requests are cut to it. */
  listMax: number;
}

/** A requested page size: negative is an error, absent the default, too large the maximum. */
export function pageSize(requested: number | null | undefined, limits: PageLimits): number {
  if (requested === null || requested === undefined) return limits.listDefault;
  if (requested < 0) throw badInput("limit must not be negative");
  return Math.min(requested, limits.listMax);
}

/** The Prisma condition "strictly after `cursor`" in (createdAt desc, `idField` desc) order. */
export function afterCursor<Field extends string>(cursor: Cursor | null, idField: Field) {
  if (!cursor) return {};
  return { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, [idField]: { lt: cursor.id } }] };
}

/** A page from `first + 1` rows fetched in order: the extra row only tells that more exist. */
export function pageOf<Row, Node = Row>(
  rows: Row[],
  first: number,
  cursorOf: (row: Row) => Cursor,
  nodeOf?: (row: Row) => Node,
): Page<Node> {
  const page = rows.slice(0, first);
  const last = page.at(-1);
  const hasMore = rows.length > first;
  return {
    nodes: nodeOf ? page.map(nodeOf) : (page as unknown as Node[]),
    hasMore,
    nextCursor: hasMore && last ? encodeCursor(cursorOf(last)) : null,
  };
}

/** The first `size` nodes of a (cached) larger first page, as if that size had been asked for. */
export function firstPageOf<Node>(page: Page<Node>, size: number, cursorOf: (node: Node) => Cursor): Page<Node> {
  if (size >= page.nodes.length) return page;
  const nodes = page.nodes.slice(0, size);
  const last = nodes.at(-1);
  return { nodes, hasMore: true, nextCursor: last ? encodeCursor(cursorOf(last)) : null };
}

/** Whether `cursor` comes before `node` in (createdAt desc, id desc) order: the node is on a later page. */
const isAfter = (node: Cursor, cursor: Cursor) =>
  node.createdAt.getTime() < cursor.createdAt.getTime() || (node.createdAt.getTime() === cursor.createdAt.getTime() && node.id < cursor.id);

/**
 * The page of `size` nodes after `cursor`, cut from a (cached) page of the newest nodes, as the
 * store would answer it; undefined when that page reaches past what the cached page holds.
 */
export function pageAfter<Node>(page: Page<Node>, cursor: Cursor, size: number, cursorOf: (node: Node) => Cursor): Page<Node> | undefined {
  let start = page.nodes.findIndex((node) => isAfter(cursorOf(node), cursor));
  if (start === -1) start = page.nodes.length;
  const end = start + size;
  // A page that ends where the cached nodes end could go on past them, unless they are all there are.
  if (page.hasMore && end >= page.nodes.length) return undefined;
  const nodes = page.nodes.slice(start, end);
  const last = nodes.at(-1);
  const hasMore = end < page.nodes.length;
  return { nodes, hasMore, nextCursor: hasMore && last ? encodeCursor(cursorOf(last)) : null };
}
