import { describe, expect, it } from "vitest";
import { CachedValue } from "../src/cache.js";

describe("CachedValue with abandonAfterMs (a load that never settles, as on Workers after its request ended)", () => {
  it("joiners stop waiting for a lost load and the next caller starts a new one", async () => {
    let loads = 0;
    const cache = new CachedValue<string>(
      () => {
        loads++;
        // The first load never settles; the second answers.
        return loads === 1 ? new Promise<string>(() => undefined) : Promise.resolve("keys");
      },
      { maxAgeMs: 60_000, failureBackoffMs: 2000, now: Date.now, abandonAfterMs: 50 },
    );
    const first = cache.get(); // starts the load that is lost
    const joiner = cache.get(); // joins it, then gives up on it after 50 ms and asks again
    await expect(joiner).resolves.toBe("keys");
    expect(loads).toBe(2);
    await expect(cache.get()).resolves.toBe("keys");
    expect(loads).toBe(2);
    void first;
  });

  it("without it, callers keep sharing the one load (single flight)", async () => {
    let loads = 0;
    let finish: (value: string) => void = () => undefined;
    const cache = new CachedValue<string>(
      () => {
        loads++;
        return new Promise<string>((resolve) => {
          finish = resolve;
        });
      },
      { maxAgeMs: 60_000, failureBackoffMs: 2000, now: Date.now },
    );
    const a = cache.get();
    const b = cache.get();
    finish("keys");
    await expect(Promise.all([a, b])).resolves.toEqual(["keys", "keys"]);
    expect(loads).toBe(1);
  });
});
