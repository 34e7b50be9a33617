import { DescopeMcpError, UpstreamUnavailableError } from "./errors.js";

export interface CachedValueOptions {
  /** A value older than this is reloaded in the background on the next `get()`. */
  maxAgeMs: number;
  /** After a failed load, `get()` fails fast for this long instead of calling upstream again. */
  failureBackoffMs: number;
  now: () => number;
  /**
   * A load still unsettled this long after it started (real time) is given up: the next caller
   * starts a new one. A load always settles within its own time limits, unless the runtime dropped
   * it (Cloudflare Workers cancels a request's I/O once it is answered): a lost load must never
   * wedge every later request. Default: never.
   */
  maxLoadMs?: number;
  /** Called with every load as it starts (e.g. a host's `waitUntil`); what it throws is ignored. */
  onLoad?: (load: Promise<unknown>) => void;
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
  private inflight: Promise<T> | undefined;
  /** When the load in flight started (real time, `Date.now()`). */
  private inflightSince = 0;
  private failure: { error: unknown; at: number } | undefined;
  /** How many loads were started (for tests, benchmarks and metrics). */
  loads = 0;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly options: CachedValueOptions,
  ) {}

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
    if (this.inflight && !this.lost()) return this.inflight;
    if (this.failure && now - this.failure.at < this.options.failureBackoffMs) {
      return Promise.reject(this.backoffError(now));
    }
    return this.reload();
  }

  /** Starts a load (or joins the one in flight), whatever the age of the cached value. */
  reload(): Promise<T> {
    if (this.inflight && !this.lost()) return this.inflight;
    this.loads++;
    this.attemptedAt = this.options.now();
    let current: Promise<T> | undefined;
    const run = async (): Promise<T> => {
      try {
        const value = await this.load();
        this.value = value;
        this.loadedAt = this.options.now();
        if (this.inflight === current) this.failure = undefined;
        return value;
      } catch (error) {
        if (this.inflight === current) this.failure = { error, at: this.options.now() };
        if (this.value !== undefined) return this.value; // stale-if-error
        throw error;
      } finally {
        if (this.inflight === current) this.inflight = undefined;
      }
    };
    current = run();
    this.inflight = current;
    this.inflightSince = Date.now();
    if (this.options.onLoad) {
      try {
        this.options.onLoad(current.catch(() => undefined));
      } catch {
        // A host hook must never change the outcome.
      }
    }
    return current;
  }

  /** Whether the load in flight has outlived `maxLoadMs`: lost, not merely slow. */
  private lost(): boolean {
    const max = this.options.maxLoadMs;
    return max !== undefined && Date.now() - this.inflightSince > max;
  }

  /** Milliseconds since the last load attempt started (successful or not). */
  sinceLastAttempt(): number {
    return this.options.now() - this.attemptedAt;
  }

  /** Whether a load is in flight (and not given up as lost). */
  get loading(): boolean {
    return this.inflight !== undefined && !this.lost();
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
