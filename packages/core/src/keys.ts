import { createLocalJWKSet, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import { CachedValue } from "./cache.js";
import { UpstreamUnavailableError } from "./errors.js";
import { type FetchLike, upstreamJson } from "./http.js";

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface KeyStoreOptions {
  fetch: FetchLike;
  /** Resolves the JWKS URL (explicit option, discovery `jwks_uri`, or the fallback). */
  jwksURL: () => Promise<string>;
  timeoutMs: number;
  /** An unknown `kid` triggers a refetch only if the last fetch started at least this long ago. */
  cooldownMs: number;
  /** Keys are refetched in the background of a request once older than this. */
  maxAgeMs: number;
  failureBackoffMs: number;
  now: () => number;
}

interface LoadedKeys {
  resolver: KeyResolver;
  kids: ReadonlySet<string>;
}

/** The issuer's signing keys: fetched once, shared, refreshed on age or on an unknown `kid` (with a cool-down). */
export class KeyStore {
  private readonly cache: CachedValue<LoadedKeys>;
  private lastKidRefetchAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: KeyStoreOptions) {
    this.cache = new CachedValue(() => this.fetchKeys(), {
      maxAgeMs: options.maxAgeMs,
      failureBackoffMs: options.failureBackoffMs,
      now: options.now,
    });
  }

  /** Number of JWKS fetches started so far. */
  get fetches(): number {
    return this.cache.loads;
  }

  /** Loads the keys now (optional warm-up). */
  async warm(): Promise<void> {
    await this.cache.get();
  }

  /** A jose key-resolution function for `jwtVerify`. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    let keys = await this.cache.get();
    if (typeof header.kid === "string" && !keys.kids.has(header.kid)) {
      if (this.cache.loading) {
        // A fetch is already under way (a rotation being followed): wait for it rather than refuse.
        keys = await this.cache.reload();
      } else {
        const now = this.options.now();
        // The cool-down counts from refetches that unknown kids caused, so a rotation right after
        // start-up is still followed at once, and a flood of unknown kids costs one fetch per window.
        if (now - this.lastKidRefetchAt >= this.options.cooldownMs) {
          this.lastKidRefetchAt = now;
          keys = await this.cache.reload();
        }
      }
    }
    return keys.resolver(header, token);
  };

  private async fetchKeys(): Promise<LoadedKeys> {
    const url = await this.options.jwksURL();
    const { status, json } = await upstreamJson(this.options.fetch, {
      url,
      timeoutMs: this.options.timeoutMs,
      what: "JWKS",
    });
    if (status !== 200 || !isJwks(json)) {
      throw new UpstreamUnavailableError(
        `Descope JWKS answered ${status === 200 ? "an invalid key set" : `HTTP ${status}`}`,
      );
    }
    const keys = json.keys.filter((k) => k.use === undefined || k.use === "sig");
    const kids = new Set(keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === "string"));
    return { resolver: createLocalJWKSet({ keys }), kids };
  }
}

function isJwks(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((k) => typeof k === "object" && k !== null && !Array.isArray(k))
  );
}
