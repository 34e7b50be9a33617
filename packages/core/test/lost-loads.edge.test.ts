// Shared upstream loads (discovery, JWKS) on runtimes that end a request's I/O with its response
// (Cloudflare Workers): the host's `waitUntil` is given every load as it starts, and a load that
// never settles — dropped by the runtime — is given up once past its own time limits, so it can
// never wedge every later request. Runs on Node and inside workerd.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RemoteEmulator, startEmulator } from "../../../test/edge/emulator.js";
import { CachedValue } from "../src/cache.js";
import { ConfigurationError, createDescopeMcpAuth, type FetchLike } from "../src/index.js";

afterEach(() => {
  vi.useRealTimers();
});

const never = <T>() => new Promise<T>(() => undefined);

describe("CachedValue", () => {
  const options = { maxAgeMs: 60_000, failureBackoffMs: 2000, now: () => 0 };

  it("shares a slow load, and gives up a lost one after abandonAfterMs (real time)", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_000_000 });
    let loads = 0;
    const cached = new CachedValue<string>(() => (++loads === 1 ? never() : Promise.resolve("keys")), {
      ...options,
      abandonAfterMs: 6000,
    });
    void cached.get();
    vi.setSystemTime(1_000_000 + 6000);
    void cached.get(); // slow, not lost: joined
    expect(loads).toBe(1);
    expect(cached.loading).toBe(true);
    vi.setSystemTime(1_000_000 + 6001);
    expect(cached.loading).toBe(false);
    expect(await cached.get()).toBe("keys"); // lost: a new load
    expect(loads).toBe(2);
    expect(await cached.get()).toBe("keys");
    expect(loads).toBe(2);
  });

  it("never gives up a load without abandonAfterMs", () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 0 });
    const cached = new CachedValue<string>(() => never(), options);
    const first = cached.get();
    vi.setSystemTime(10 ** 9);
    expect(cached.get()).toBe(first);
  });

  it("a lost load that settles late does not undo the newer one's failure back-off", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 0 });
    let release: (value: string) => void = () => undefined;
    let loads = 0;
    const cached = new CachedValue<string>(
      () => {
        loads++;
        if (loads === 1) return new Promise<string>((resolve) => (release = resolve));
        return Promise.reject(new Error("down"));
      },
      { ...options, abandonAfterMs: 10 },
    );
    void cached.get();
    vi.setSystemTime(11);
    await expect(cached.get()).rejects.toThrow("down");
    release("late keys");
    await Promise.resolve();
    expect(cached.lastLoadFailed).toBe(true);
    expect(await cached.get()).toBe("late keys"); // its value is still good to serve
  });

  it("hands every load to onLoad as it starts, settled or not, and ignores what onLoad throws", async () => {
    const handed: Array<Promise<unknown>> = [];
    let fail = true;
    const cached = new CachedValue<string>(() => (fail ? Promise.reject(new Error("x")) : Promise.resolve("v")), {
      ...options,
      failureBackoffMs: 0,
      onLoad: (load) => {
        handed.push(load);
        throw new Error("a broken hook");
      },
    });
    await expect(cached.get()).rejects.toThrow("x");
    fail = false;
    expect(await cached.get()).toBe("v");
    expect(handed).toHaveLength(2);
    expect(await Promise.all(handed)).toEqual([undefined, "v"]); // a failed load is handed over settled
  });
});

describe("the engine's waitUntil option", () => {
  let emu: RemoteEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(() => emu?.close());

  it("receives the discovery and JWKS fetches, once each however many requests share them", async () => {
    const kept: Array<Promise<unknown>> = [];
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      baseURL: "https://mcp.example.com",
      waitUntil: (p) => kept.push(p),
    });
    const token = await emu.mintToken({ aud: "https://mcp.example.com/mcp" });
    await Promise.all([auth.verifyToken(token), auth.verifyToken(token), auth.authorizationServerMetadata()]);
    expect(kept).toHaveLength(2);
    await Promise.all(kept);
  });

  it("is validated", () => {
    expect(() =>
      createDescopeMcpAuth({
        issuerURL: emu.issuerURL,
        baseURL: "https://mcp.example.com",
        waitUntil: "later" as never,
      }),
    ).toThrow(ConfigurationError);
  });

  it("a JWKS fetch the runtime dropped does not wedge later requests", async () => {
    let calls = 0;
    // The first JWKS fetch is dropped (never settles), as workerd does to a finished request's I/O.
    const dropping: FetchLike = (input, init) => (++calls === 1 ? never() : fetch(input, init));
    const auth = createDescopeMcpAuth({
      issuerURL: emu.issuerURL,
      jwksURL: emu.jwksURL,
      baseURL: "https://mcp.example.com",
      fetch: dropping,
      // The first request gives up on the dropped fetch after 1 s; the second fetches the keys for real
      // within the same budget (a loaded machine must not make it miss it).
      timeouts: { request: 1000 },
    });
    const token = await emu.mintToken({ aud: "https://mcp.example.com/mcp" });
    await expect(auth.verifyToken(token)).rejects.toThrow(/could not be loaded within this request's time limit/);
    // Later than the fetch's own limit (timeouts.jwks, 5 s) plus the margin: it counts as lost.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 5000 + 1000 + 1 });
    const session = await auth.verifyToken(token);
    expect(session.userId).toBe("U2EmulatorUser0001");
    expect(calls).toBe(2);
  });
});
