// Runs once per `vitest run`, on Node, before any project: a control server through which tests in
// every project — Node and workerd alike — start their own Descope emulators (an emulator is a Node
// HTTP server, so a test inside workerd cannot start one itself). See ./emulator.ts for the client.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type DescopeEmulator,
  type EmulatorOptions,
  type HostileTokens,
  startDescopeEmulator,
} from "@descope-mcp/testing";
import type { TestProject } from "vitest/node";
import type {} from "./emulator.js"; // the `emulatorControl` key of vitest's ProvidedContext

async function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulators = new Map<string, DescopeEmulator>();
  let next = 0;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? "/", "http://control");
    const [, kind, id, action] = url.pathname.split("/");
    if (kind === "redirect") {
      // A redirect for upstream tests: `/redirect?to=<absolute or relative URL>&status=302`.
      res.statusCode = Number(url.searchParams.get("status") ?? 302);
      res.setHeader("location", url.searchParams.get("to") ?? "/");
      return undefined;
    }
    if (kind !== "emulators") throw Object.assign(new Error("not found"), { status: 404 });
    if (id === undefined || id === "") {
      const emu = await startDescopeEmulator((await bodyOf(req)) as EmulatorOptions);
      const key = String(++next);
      emulators.set(key, emu);
      const { baseURL, issuerURL, wellKnownURL, jwksURL, projectId, mcpServerId, managementKey } = emu;
      return { id: key, baseURL, issuerURL, wellKnownURL, jwksURL, projectId, mcpServerId, managementKey };
    }
    const emu = emulators.get(id);
    if (!emu) throw Object.assign(new Error(`no emulator ${id}`), { status: 404 });
    const body = req.method === "POST" ? await bodyOf(req) : {};
    switch (action) {
      case undefined:
        emulators.delete(id);
        await emu.close();
        return {};
      case "mint":
        return { token: await emu.mintToken(body.claims as Record<string, unknown>, body.options as never) };
      case "hostile":
        return { token: await emu.tokens[body.kind as keyof HostileTokens](body.claims as Record<string, unknown>) };
      case "fault":
        emu.setFault(body.target as never, (body.fault ?? undefined) as never);
        return {};
      case "connection":
        emu.setConnection(body.appId as string, body.state as never);
        return {};
      case "requests":
        if (req.method === "DELETE") emu.clearRequests();
        return emu.requests;
      case "rotate":
        await emu.rotateKeys();
        return {};
      case "jwks": // the emulator's key set, served from this origin (for same-origin redirect tests)
        return (await fetch(emu.jwksURL)).json();
      default:
        throw Object.assign(new Error(`unknown action ${action}`), { status: 404 });
    }
  }

  const server = createServer((req, res) => {
    route(req, res).then(
      (value) => {
        if (value === undefined) return res.end();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(value));
      },
      (error: Error & { status?: number }) => {
        res.statusCode = error.status ?? 500;
        res.end(JSON.stringify({ error: error.message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("emulatorControl", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return async () => {
    await Promise.all([...emulators.values()].map((emu) => emu.close()));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
}
