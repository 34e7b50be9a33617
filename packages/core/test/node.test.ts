import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeRequest, readNodeBody } from "../src/node.js";

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Serves one request whose body `readNodeBody(req, limit)` reads; resolves what it settled with. */
function readOne(limit: number, send: (socket: net.Socket, port: number) => void): Promise<unknown> {
  return new Promise((resolve) => {
    const listening = http.createServer((req, res) => {
      readNodeBody(req as NodeRequest, limit)
        .then(
          (bytes) => resolve(Buffer.from(bytes as Uint8Array).toString("utf8")),
          (error: unknown) => resolve(error),
        )
        .finally(() => res.end());
    });
    server = listening;
    listening.listen(0, "127.0.0.1", () => {
      const { port } = listening.address() as AddressInfo;
      const socket = net.connect(port, "127.0.0.1", () => send(socket, port));
      socket.on("error", () => undefined);
      socket.on("data", () => socket.destroy());
    });
  });
}

describe("readNodeBody", () => {
  it("reads a whole body", async () => {
    const read = await readOne(100, (socket) =>
      socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
    );
    expect(read).toBe("hello");
  });

  it("refuses a body announced over the limit at once, without waiting for it", async () => {
    // Only the head is sent: a reader that waited for the body would never settle.
    const read = await readOne(100, (socket) =>
      socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"),
    );
    expect(read).toMatchObject({ code: "payload_too_large", status: 413 });
  });

  it("refuses a chunked body as soon as it crosses the limit", async () => {
    const chunk = "x".repeat(60);
    const read = await readOne(100, (socket) =>
      socket.write(
        `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3c\r\n${chunk}\r\n3c\r\n${chunk}\r\n`,
      ),
    );
    expect(read).toMatchObject({ code: "payload_too_large", status: 413 });
  });

  it("reads a stream that is no socket's message (a test injector's request) to its end", async () => {
    const injected = Object.assign(Readable.from([Buffer.from("{}")]), { headers: {} }) as unknown as NodeRequest;
    expect(Buffer.from((await readNodeBody(injected, 100)) as Uint8Array).toString()).toBe("{}");
    const cut = Object.assign(Readable.from([Buffer.from("{")]), {
      headers: {},
      complete: false,
    }) as unknown as NodeRequest;
    await expect(readNodeBody(cut, 100)).rejects.toMatchObject({ code: "invalid_request" });
  });
});
