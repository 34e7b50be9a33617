// A refusal leaves Nest's pipeline for that request unfinished on purpose (the guard never settles,
// so no filter can answer again). This pins that nothing keeps such a request alive: after a full
// garbage collection every refused request object is gone, on both platforms.
import http from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { All, Controller, Res } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescopeMcpAuthGuard, DescopeMcpAuthModule } from "../src/index.js";
import { BASE_URL, PLATFORMS, RESOURCE, startNest, toolCall } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

@Controller()
class Mcp {
  @All("mcp")
  mcp(@Res() res: { raw?: http.ServerResponse } & http.ServerResponse) {
    (res.raw ?? res).end("served");
  }
}

/** One request on its own connection (closed after the answer); resolves its status. */
function post(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/mcp`, { method: "POST", agent: false, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(JSON.stringify(toolCall("write_note")));
  });
}

describe.each(PLATFORMS)("refused requests on %s", (platform) => {
  it("are garbage collected although the guard's decision never settles", async () => {
    const requests: WeakRef<object>[] = [];
    const server = await startNest(
      platform,
      {
        imports: [
          DescopeMcpAuthModule.forRoot({
            issuerURL: emu.issuerURL,
            baseURL: BASE_URL,
            toolScopes: { write_note: ["w"] },
          }),
        ],
        controllers: [Mcp],
        providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
      },
      {
        setup: (app) =>
          app.use((req: object, _res: unknown, next: () => void) => {
            requests.push(new WeakRef(req));
            next();
          }),
      },
    );
    try {
      const token = await emu.mintToken({ aud: RESOURCE });
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const batch = Array.from({ length: 20 }, (_, j) =>
          post(server.url, {
            "content-type": "application/json",
            ...((i + j) % 2 ? { authorization: `Bearer ${token}` } : {}),
          }),
        );
        statuses.push(...(await Promise.all(batch)));
      }
      expect(statuses.filter((s) => s === 401)).toHaveLength(100);
      expect(statuses.filter((s) => s === 403)).toHaveLength(100);
      expect(requests).toHaveLength(200);
      // Every connection is closed (bounded wait on a condition), then two full collections.
      const httpServer = server.app.getHttpServer() as http.Server;
      const open = () => new Promise<number>((resolve) => httpServer.getConnections((_e, n) => resolve(n)));
      for (let i = 0; i < 500 && (await open()) > 0; i++) await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 2; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      expect(requests.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
