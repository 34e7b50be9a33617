import { DescopeMcpError, UpstreamUnavailableError } from "./errors.js";

export interface CachedValueOptions {
  /** A value older than this is reloaded in the background on the next `get()`. */
  maxAgeMs: number;
  /** After a failed load, `get()` fails fast for this long instead of calling upstream again. */
  failureBackoffMs: number;
  now: () => number;
  /**
   * A load still unsettled this long after it started counts as lost, and the next caller starts a
   * new one instead of joining it. Set it a little above the load's own time limit: on Workers, a
   * load started by a request that has since ended may never settle (its I/O and timers go with it).
   */
  abandonAfterMs?: number;
  /** Called with every load as it starts (e.g. a host's `waitUntil`); what it throws is ignored. */
  onLoad?: ((load: Promise<unknown>) => void) | undefined;
}

/**
 * One upstream value (a discovery document, a JWKS) with single-flight loading: however many
 * callers ask at once, one load runs and all of them share its outcome. A stale value is served
 * when a reload fails; a failed cold load is remembered for `failureBackoffMs` so an outage does
 * not turn every request into an upstream call.
 */
export class CachedValue<T> {
  private value: T | undefined;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<T> | undefined;
  private pendingSince = 0;
  private failure: { error: unknown; at: number } | undefined;
  /** How many loads were started (for tests, benchmarks and metrics). */
  loads = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: CachedValueOptions,
  ) {}

  /** The load in flight, unless it has outlived `abandonAfterMs` (real time; then it is forgotten). */
  private get inflight(): Promise<T> | undefined {
    const limit = this.options.abandonAfterMs;
    if (this.pending && limit !== undefined && Date.now() - this.pendingSince > limit) this.pending = undefined;
    return this.pending;
  }

  /**
   * Joins the load in flight. With `abandonAfterMs`, a joiner does not wait past it: then it asks
   * again (and starts a new load if that one is lost), on a timer of its own.
   */
  private join(pending: Promise<T>): Promise<T> {
    const limit = this.options.abandonAfterMs;
    if (limit === undefined) return pending;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.get().then(resolve, reject),
        Math.max(0, this.pendingSince + limit - Date.now()) + 1,
      );
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * The cached value when there is one (a stale one starts a background reload and is served
   * meanwhile); otherwise a (shared) load.
   */
  get(): Promise<T> {
    const now = this.options.now();
    if (this.value !== undefined) {
      if (
        now - this.loadedAt >= this.options.maxAgeMs &&
        !this.loading &&
        now - this.attemptedAt >= this.options.failureBackoffMs
      ) {
        this.reload().catch(() => undefined);
      }
      return Promise.resolve(this.value);
    }
    const pending = this.inflight;
    if (pending) return this.join(pending);
    if (this.failure && now - this.failure.at < this.options.failureBackoffMs) {
      return Promise.reject(this.backoffError(now));
    }
    return this.reload();
  }

  /** Starts a load (or joins the one in flight), whatever the age of the cached value. */
  reload(): Promise<T> {
    const inflight = this.inflight;
    if (inflight) return this.join(inflight);
    this.loads++;
    this.attemptedAt = this.options.now();
    let promise: Promise<T> | undefined;
    const run = async (): Promise<T> => {
      try {
        const value = await this.load();
        this.value = value;
        this.loadedAt = this.options.now();
        if (this.pending === promise) this.failure = undefined;
        return value;
      } catch (error) {
        if (this.pending === promise) this.failure = { error, at: this.options.now() };
        if (this.value !== undefined) return this.value; // stale-if-error
        throw error;
      } finally {
        // An abandoned load that settles late must not clear the one that replaced it.
        if (this.pending === promise) this.pending = undefined;
      }
    };
    this.pendingSince = Date.now();
    promise = run();
    this.pending = promise;
    if (this.options.onLoad) {
      try {
        this.options.onLoad(promise.catch(() => undefined));
      } catch {
        // A host hook must never change the outcome.
      }
    }
    return promise;
  }

  /** Milliseconds since the last load attempt started (successful or not). */
  sinceLastAttempt(): number {
    return this.options.now() - this.attemptedAt;
  }

  /** Whether a load is in flight (and not given up as lost). */
  get loading(): boolean {
    return this.inflight !== undefined;
  }

  /** Whether the last load attempt failed. */
  get lastLoadFailed(): boolean {
    return this.failure !== undefined;
  }

  peek(): T | undefined {
    return this.value;
  }

  /** Whether the next `get()` would start a background reload (the value is old and no reload is due to back off). */
  isStale(): boolean {
    const now = this.options.now();
    return (
      now - this.loadedAt >= this.options.maxAgeMs &&
      !this.loading &&
      now - this.attemptedAt >= this.options.failureBackoffMs
    );
  }

  private backoffError(now: number): unknown {
    const failure = this.failure as { error: unknown; at: number };
    const remainingSeconds = (this.options.failureBackoffMs - (now - failure.at)) / 1000;
    if (failure.error instanceof UpstreamUnavailableError) {
      return new UpstreamUnavailableError(failure.error.message, remainingSeconds);
    }
    if (failure.error instanceof DescopeMcpError) return failure.error;
    return new UpstreamUnavailableError("Descope is unavailable", remainingSeconds);
  }
}
