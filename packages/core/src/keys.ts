import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import { CachedValue } from "./cache.js";
import { InvalidTokenError, UpstreamUnavailableError } from "./errors.js";
import { beforeDeadline, type FetchLike, upstreamJson } from "./http.js";

export type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface KeyStoreOptions {
  fetch: FetchLike;
  /** Resolves the JWKS URL (explicit option, discovery `jwks_uri`, or the fallback). */
  jwksURL: () => Promise<string>;
  timeoutMs: number;
  /** A fetch still unsettled this long after it started is given up (see `CachedValueOptions.abandonAfterMs`). */
  abandonAfterMs?: number;
  /** An unknown `kid` triggers a refetch only if the last fetch started at least this long ago. */
  cooldownMs: number;
  /** Keys are refetched in the background of a request once older than this. */
  maxAgeMs: number;
  failureBackoffMs: number;
  now: () => number;
  /** Called with every JWKS fetch as it starts (the host's `waitUntil`). */
  onLoad?: ((load: Promise<unknown>) => void) | undefined;
}

interface LoadedKeys {
  resolver: KeyResolver;
  kids: ReadonlySet<string>;
  /** Imported keys by `alg kid`: each key of a set is selected and imported once (bounded by kids × algorithms). */
  imported: Map<string, Promise<CryptoKey>>;
  /** The same keys once imported, for the synchronous fast path. */
  ready: Map<string, CryptoKey>;
}

const LATE = "Descope's signing keys (JWKS) could not be loaded within this request's time limit (timeouts.request)";

/** RFC 7518 §3.3 and §3.5: RSA keys of at least 2048 bits. */
const MIN_RSA_BITS = 2048;

/**
 * Selects and imports the key for `alg` and `kid` with jose (kty, crv, `use`, `key_ops` and the
 * key's own `alg` must fit; a public key only), refusing ambiguous `kid`s and short RSA keys.
 */
async function importKey(resolver: KeyResolver, alg: string, kid: string): Promise<CryptoKey> {
  const key = (await resolver({ alg, kid })) as CryptoKey;
  const { modulusLength } = key.algorithm as Partial<RsaHashedKeyAlgorithm>;
  if (typeof modulusLength === "number" && modulusLength < MIN_RSA_BITS) {
    throw new InvalidTokenError(`The access token was signed with an RSA key shorter than ${MIN_RSA_BITS} bits`);
  }
  return key;
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
      ...(options.abandonAfterMs === undefined ? {} : { abandonAfterMs: options.abandonAfterMs }),
      onLoad: options.onLoad,
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

  /**
   * The issuer's key for `alg` and `kid`. An unknown `kid` refetches the key set (joining a fetch
   * already under way, else at most once per cool-down window) before it is refused.
   */
  async keyFor(alg: string, kid: string, deadline = Number.POSITIVE_INFINITY): Promise<CryptoKey> {
    const cached = this.cache.peek() !== undefined;
    let keys = cached ? await this.cache.get() : await beforeDeadline(this.cache.get(), deadline, LATE);
    if (!keys.kids.has(kid)) {
      if (this.cache.loading) {
        // A fetch is already under way (a rotation being followed): wait for it rather than refuse.
        keys = await beforeDeadline(this.cache.reload(), deadline, LATE);
      } else {
        const now = this.options.now();
        // The cool-down counts from refetches that unknown kids caused, so a rotation right after
        // start-up is still followed at once, and a flood of unknown kids costs one fetch per window.
        if (now - this.lastKidRefetchAt >= this.options.cooldownMs) {
          this.lastKidRefetchAt = now;
          keys = await beforeDeadline(this.cache.reload(), deadline, LATE);
        }
      }
      if (!keys.kids.has(kid)) {
        throw new InvalidTokenError("The access token was signed by a key this issuer does not publish");
      }
    }
    const id = `${alg} ${kid}`;
    let key = keys.imported.get(id);
    if (key === undefined) {
      key = importKey(keys.resolver, alg, kid);
      keys.imported.set(id, key);
      const set = keys;
      key.then(
        (imported) => set.ready.set(id, imported),
        () => undefined,
      );
    }
    return key;
  }

  /**
   * The key for `alg` and `kid` when it is already loaded and imported (the common case once a
   * server is warm), without a promise; `undefined` means: ask `keyFor`. A stale key set still
   * answers here and is refreshed in the background, as `keyFor` would.
   */
  readyKey(alg: string, kid: string): CryptoKey | undefined {
    const keys = this.cache.peek();
    if (keys === undefined) return undefined;
    const key = keys.ready.get(`${alg} ${kid}`);
    if (key !== undefined && this.cache.isStale()) this.cache.get().catch(() => undefined); // background refresh
    return key;
  }

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
    return { resolver: createLocalJWKSet({ keys }), kids, imported: new Map(), ready: new Map() };
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
