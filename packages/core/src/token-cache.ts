import { TokenExpiredError } from "./errors.js";
import type { DescopeSession } from "./session.js";

export interface TokenCacheOptions {
  /** Most entries kept; the oldest entry is evicted first. */
  maxEntries: number;
  /** An entry is re-verified (signature and all) once it is older than this, whatever its `exp`. */
  maxAgeMs: number;
  clockToleranceMs: number;
  now: () => number;
}

interface Entry {
  /** The exact token this entry was verified for. */
  token: string;
  session: DescopeSession;
  /** `exp` in ms. */
  expiresAt: number;
  /** `nbf` in ms (or -Infinity). */
  notBefore: number;
  /** When the entry stops being trusted without re-verification. */
  staleAt: number;
}

/**
 * Counters of the verified-token cache, as in `auth.stats().tokenCache`.
 *
 * @inline
 */
export interface TokenCacheStats {
  /** Tokens answered from the cache (no signature work). */
  hits: number;
  /** Lookups that found no usable entry (absent, too old, or not yet valid): the token is then verified in full. */
  misses: number;
  /** Entries dropped to stay within `maxEntries`. */
  evictions: number;
  /** Tokens held now. */
  size: number;
}

/**
 * The map key of a token: its last characters (the signature's end), which are as unique as the
 * token itself. A lookup hashes this short key, not the whole token (a fresh string of a kilobyte on
 * every request); the entry then holds the whole token, and only an exact match is a hit.
 */
const KEY_LENGTH = 48;
const keyOf = (token: string) => (token.length <= KEY_LENGTH ? token : token.slice(token.length - KEY_LENGTH));

/**
 * Verified tokens. Only the exact token string an entry was verified for hits it (a different token
 * can never hit another's entry). A hit skips the signature work but re-checks `exp` and `nbf`
 * against the clock every time; nothing is trusted past its `exp` or past `maxAgeMs`. Bounded by
 * `maxEntries`, oldest first out.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly stats = { hits: 0, misses: 0, evictions: 0 };

  constructor(private readonly options: TokenCacheOptions) {}

  /** The cached session, `undefined` on a miss; throws `TokenExpiredError` for a cached token that has expired. */
  get(token: string): DescopeSession | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) {
      this.stats.misses++;
      return undefined;
    }
    const now = this.options.now();
    const tolerance = this.options.clockToleranceMs;
    if (now >= entry.staleAt || now + tolerance < entry.notBefore) {
      this.entries.delete(key);
      this.stats.misses++;
      return undefined;
    }
    if (now - tolerance >= entry.expiresAt) {
      this.entries.delete(key);
      const { session } = entry;
      throw new TokenExpiredError("The access token expired", new Date(entry.expiresAt), {
        claims: { aud: session.audience, iss: session.issuer },
      });
    }
    this.stats.hits++;
    return entry.session;
  }

  set(token: string, session: DescopeSession, claims: { exp?: unknown; nbf?: unknown }): void {
    if (this.options.maxEntries <= 0 || typeof claims.exp !== "number") return;
    const key = keyOf(token);
    // Re-inserted as the newest; a different token with the same key (never seen in practice) replaces it.
    if (this.entries.has(key)) this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.stats.evictions++;
    }
    this.entries.set(key, {
      token,
      session,
      expiresAt: claims.exp * 1000,
      notBefore: typeof claims.nbf === "number" ? claims.nbf * 1000 : Number.NEGATIVE_INFINITY,
      staleAt: this.options.now() + this.options.maxAgeMs,
    });
  }

  clear(): void {
    this.entries.clear();
  }

  snapshot(): TokenCacheStats {
    return { ...this.stats, size: this.entries.size };
  }
}
