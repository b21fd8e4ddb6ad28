/**
 * Verified tokens by token string, least recently used evicted first, each entry dropped
 * once its `exp` has passed. A hit costs two Map operations, against ≈ 200 µs for an ES256
 * verification (notes/gateway-hot-path.md).
 */
export interface TokenCache<V extends { expiresAt: number }> {
  /** The value, or undefined when absent or expired at `nowSeconds`. */
  get(token: string, nowSeconds: number): V | undefined;
  set(token: string, value: V): void;
  readonly size: number;
}

export function createTokenCache<V extends { expiresAt: number }>(maxEntries: number): TokenCache<V> {
  const entries = new Map<string, V>();
  return {
    get(token, nowSeconds) {
      const value = entries.get(token);
      if (value === undefined) return undefined;
      entries.delete(token);
      if (value.expiresAt <= nowSeconds) return undefined;
      entries.set(token, value); // most recently used goes last
      return value;
    },
    set(token, value) {
      entries.delete(token);
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(token, value);
    },
    get size() {
      return entries.size;
    },
  };
}
