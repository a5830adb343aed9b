// Values that are often at hand and sometimes must be waited for (a cache hit or a load).
// GraphQL resolves a plain value without creating a promise; on a page of thirty videos with
// a dozen fields each, those promises were a large share of the work and of the garbage.

export type MaybePromise<T> = T | Promise<T>;

/** Applies `map` at once to a value, or when a promise settles. */
export function then<T, R>(value: MaybePromise<T>, map: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(map) : map(value);
}
