import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DescopeEmulator, type FaultTarget, startDescopeEmulator } from "../src/index.js";
import { endpoints, postJson, registerClient } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ connections: { github: { status: "connected" } } });
});
afterAll(() => emu.close());
beforeEach(() => {
  for (const t of ["discovery", "jwks", "register", "authorize", "token", "outbound", "users", "all"] as const) {
    emu.setFault(t, undefined);
  }
  emu.clearRequests();
});

/** One representative request per fault target. */
function probe(target: Exclude<FaultTarget, "all">): Promise<Response> {
  const e = endpoints(emu);
  const mgmt = `Bearer ${emu.projectId}:${emu.managementKey}`;
  switch (target) {
    case "discovery":
      return fetch(emu.wellKnownURL);
    case "jwks":
      return fetch(emu.jwksURL);
    case "register":
      return postJson(e.register, { redirect_uris: ["http://127.0.0.1:1/cb"] });
    case "authorize":
      return fetch(`${e.authorize}?client_id=nope`, { redirect: "manual" });
    case "token":
      return fetch(e.token, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=x",
      });
    case "outbound":
      return postJson(e.userToken, { appId: "github", userId: "U2EmulatorUser0001", scopes: [], options: {} }, mgmt);
    case "users":
      return fetch(`${e.users}?userId=U2EmulatorUser0001`, { headers: { authorization: mgmt } });
  }
}

const normalStatus: Record<Exclude<FaultTarget, "all">, number> = {
  discovery: 200,
  jwks: 200,
  register: 201,
  authorize: 400,
  token: 401,
  outbound: 200,
  users: 200,
};

describe("faults", () => {
  it.each(Object.keys(normalStatus) as Exclude<FaultTarget, "all">[])(
    "status + raw body on %s, other targets untouched",
    async (target) => {
      emu.setFault(target, { status: 503, body: "not json" });
      const res = await probe(target);
      expect(res.status).toBe(503);
      expect(await res.text()).toBe("not json");
      for (const other of Object.keys(normalStatus) as Exclude<FaultTarget, "all">[]) {
        if (other === target) continue;
        expect((await probe(other)).status, other).toBe(normalStatus[other]);
      }
    },
  );

  it("a 200 with a body that is not JSON", async () => {
    emu.setFault("discovery", { status: 200, body: "<html>oops</html>", headers: { "Content-Type": "text/html" } });
    const res = await fetch(emu.wellKnownURL);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html");
    await expect(res.json()).rejects.toThrow();
  });

  it("status only answers a JSON error body", async () => {
    emu.setFault("jwks", { status: 500 });
    const res = await fetch(emu.jwksURL);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "server_error", error_description: "Emulated fault" });
  });

  it("delayMs alone delays, then handles normally", async () => {
    emu.setFault("jwks", { delayMs: 150 });
    const started = Date.now();
    const res = await fetch(emu.jwksURL);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { keys: unknown[] }).keys).toHaveLength(1);
  });

  it("delayMs can time out a client", async () => {
    emu.setFault("discovery", { delayMs: 2000 });
    await expect(fetch(emu.wellKnownURL, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
  });

  it("delay then status", async () => {
    emu.setFault("token", { delayMs: 50, status: 429, body: '{"error":"slow_down"}' });
    const started = Date.now();
    const res = await probe("token");
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ error: "slow_down" });
  });

  it("destroy drops the socket without an answer", async () => {
    emu.setFault("outbound", { destroy: true });
    await expect(probe("outbound")).rejects.toThrow(TypeError);
    expect((await probe("users")).status).toBe(200);
  });

  it("'all' hits every endpoint including unknown paths; a specific fault wins", async () => {
    emu.setFault("all", { status: 502, body: "bad gateway" });
    emu.setFault("users", { status: 418 });
    expect((await probe("discovery")).status).toBe(502);
    expect((await fetch(`${emu.baseURL}/nowhere`)).status).toBe(502);
    expect((await probe("users")).status).toBe(418);
    emu.setFault("all", undefined);
    expect((await probe("discovery")).status).toBe(200);
  });

  it("faulted requests are recorded too", async () => {
    emu.setFault("register", { destroy: true });
    await expect(postJson(endpoints(emu).register, { redirect_uris: ["http://127.0.0.1:1/cb"] })).rejects.toThrow();
    expect(emu.requests).toEqual([
      {
        method: "POST",
        path: `/v1/mgmt/mcp/client/${emu.projectId}/${emu.mcpServerId}/register`,
        query: {},
        headers: expect.objectContaining({ "content-type": "application/json" }),
        body: { redirect_uris: ["http://127.0.0.1:1/cb"] },
        at: expect.any(Number),
      },
    ]);
  });

  it("records query strings and form bodies", async () => {
    await fetch(`${endpoints(emu).users}?userId=U1&x=2`);
    await probe("token");
    expect(emu.requests.map(({ method, path, query, body }) => ({ method, path, query, body }))).toEqual([
      { method: "GET", path: "/v1/mgmt/user", query: { userId: "U1", x: "2" }, body: undefined },
      {
        method: "POST",
        path: `/oauth2/v1/apps/agentic/${emu.projectId}/${emu.mcpServerId}/token`,
        query: {},
        body: { grant_type: "x" },
      },
    ]);
    emu.clearRequests();
    expect(emu.requests).toEqual([]);
  });
});

describe("suspend / resume", () => {
  it("refuses connections while suspended, then serves the same state on the same port", async () => {
    const { client_id } = await registerClient(emu);
    const url = emu.wellKnownURL;
    await emu.suspend();
    await expect(fetch(url)).rejects.toMatchObject({ cause: expect.objectContaining({ code: "ECONNREFUSED" }) });
    await emu.resume();
    expect(emu.wellKnownURL).toBe(url);
    expect((await fetch(url)).status).toBe(200);
    const res = await fetch(
      `${endpoints(emu).authorize}?client_id=${client_id}&redirect_uri=${encodeURIComponent("http://127.0.0.1:9999/callback")}`,
      {
        redirect: "manual",
      },
    );
    expect(res.status).toBe(302); // the client registered before the outage is still known
  });

  it("suspend interrupts requests stuck in a delay", async () => {
    emu.setFault("jwks", { delayMs: 5000 });
    const pending = fetch(emu.jwksURL);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await emu.suspend();
    await expect(pending).rejects.toThrow(TypeError);
    expect(Date.now() - started).toBeLessThan(1000);
    await emu.resume();
    emu.setFault("jwks", undefined);
    expect((await fetch(emu.jwksURL)).status).toBe(200);
  });

  it("close is final", async () => {
    const other = await startDescopeEmulator();
    await other.close();
    await expect(fetch(other.jwksURL)).rejects.toThrow(TypeError);
    await expect(other.resume()).rejects.toThrow(/closed/);
    await other.close();
  });
});
