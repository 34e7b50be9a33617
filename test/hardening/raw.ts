// Raw TCP exchanges for the body-contract tests: the ways a client can send (or fail to send) a
// request body that `fetch` and `node:http` never produce — half-closed connections, bodies split
// across writes, aborts mid-body, `Expect: 100-continue`, chunked bodies with and without their end.
import net from "node:net";

/** How the client sends the body and what it does with the connection afterwards. */
export interface RawScenario {
  name: string;
  /** Builds the bytes to send for a JSON body: the request head (without the blank line) and body pieces. */
  build(target: { port: number; path: string; token: string; body: string }): {
    head: string[];
    pieces: Buffer[];
    /**
     * Wait for `HTTP/1.1 100 Continue` before sending the pieces — at most `CONTINUE_WAIT_MS`, then
     * send them anyway, as clients do (curl waits 1 s; RFC 9110 §10.1.1): a server need not send one
     * (workerd never does).
     */
    awaitContinue?: boolean;
  };
  /**
   * After the pieces: half-close (FIN, keep reading), abort (destroy the socket at once), or wait
   * for the answer with the connection open (the request then says `Connection: close`).
   */
  ending: "half-close" | "abort" | "wait";
  /** Whether the server has the whole body (then it must judge it exactly); else it must refuse it. */
  complete: boolean;
}

export interface RawOutcome {
  /** The status of the final response, or `undefined` when none came (aborted by the client). */
  status: number | undefined;
  body: string;
  headers: Record<string, string[]>;
}

const thirds = (body: string): Buffer[] => {
  const bytes = Buffer.from(body);
  const a = Math.floor(bytes.length / 3);
  return [bytes.subarray(0, a), bytes.subarray(a, 2 * a), bytes.subarray(2 * a)];
};

const chunked = (pieces: Buffer[]): Buffer[] =>
  pieces.map((p) => Buffer.concat([Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from("\r\n")]));

function head(t: { port: number; path: string; token: string }, extra: string[]): string[] {
  return [
    `POST ${t.path} HTTP/1.1`,
    `Host: 127.0.0.1:${t.port}`,
    `Authorization: Bearer ${t.token}`,
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    ...extra,
  ];
}

/** Every way of delivering a body that the gate must get right. */
export const RAW_SCENARIOS: RawScenario[] = [
  {
    name: "the whole request, then a half-close (FIN)",
    build: (t) => ({ head: head(t, [`Content-Length: ${Buffer.byteLength(t.body)}`]), pieces: [Buffer.from(t.body)] }),
    ending: "half-close",
    complete: true,
  },
  {
    name: "the body split across three writes, then a half-close",
    build: (t) => ({ head: head(t, [`Content-Length: ${Buffer.byteLength(t.body)}`]), pieces: thirds(t.body) }),
    ending: "half-close",
    complete: true,
  },
  {
    name: "Expect: 100-continue, the body after the 100 (or after 1 s without one), then a half-close",
    build: (t) => ({
      head: head(t, [`Content-Length: ${Buffer.byteLength(t.body)}`, "Expect: 100-continue"]),
      pieces: [Buffer.from(t.body)],
      awaitContinue: true,
    }),
    ending: "half-close",
    complete: true,
  },
  {
    name: "a chunked body in three chunks with its last chunk, then a half-close",
    build: (t) => ({
      head: head(t, ["Transfer-Encoding: chunked"]),
      pieces: [...chunked(thirds(t.body)), Buffer.from("0\r\n\r\n")],
    }),
    ending: "half-close",
    complete: true,
  },
  {
    name: "a chunked body without its last chunk, then a half-close",
    build: (t) => ({ head: head(t, ["Transfer-Encoding: chunked"]), pieces: chunked(thirds(t.body)) }),
    ending: "half-close",
    complete: false,
  },
  {
    name: "fewer bytes than Content-Length, then a half-close",
    build: (t) => ({
      head: head(t, [`Content-Length: ${Buffer.byteLength(t.body) + 10}`]),
      pieces: [Buffer.from(t.body)],
    }),
    ending: "half-close",
    complete: false,
  },
  {
    name: "an abort mid-body (the client destroys the connection)",
    build: (t) => ({
      head: head(t, [`Content-Length: ${Buffer.byteLength(t.body)}`]),
      pieces: [Buffer.from(t.body).subarray(0, Math.floor(Buffer.byteLength(t.body) / 2))],
    }),
    ending: "abort",
    complete: false,
  },
];

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How long a client waits for `100 Continue` before it sends the body regardless. */
const CONTINUE_WAIT_MS = 1000;

/**
 * Plays `scenario` against 127.0.0.1:`port` and reads what the server answers until the answer is
 * complete or the server closes the connection (bounded by `timeoutMs`). An aborted exchange resolves with no status.
 */
export function playRaw(
  port: number,
  scenario: RawScenario,
  target: { path: string; token: string; body: string },
  timeoutMs = 15_000,
): Promise<RawOutcome> {
  const built = scenario.build({ port, ...target });
  const { pieces, awaitContinue } = built;
  const lines = scenario.ending === "wait" ? [...built.head, "Connection: close"] : built.head;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let continued: (() => void) | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to "${scenario.name}"`));
    }, timeoutMs);
    socket.on("data", (data: Buffer) => {
      chunks.push(data);
      if (continued && Buffer.concat(chunks).includes("HTTP/1.1 100 Continue\r\n\r\n")) {
        const go = continued;
        continued = undefined;
        go();
      }
      // A complete answer is enough: servers may hold the connection open after it (keep-alive).
      if (scenario.ending !== "abort" && isCompleteResponse(Buffer.concat(chunks))) socket.destroy();
    });
    socket.on("error", () => undefined); // a reset after the answer is fine; the answer is what counts
    socket.on("close", () => {
      clearTimeout(timer);
      if (scenario.ending === "abort") return resolve({ status: undefined, body: "", headers: {} });
      let data = Buffer.concat(chunks);
      const interim = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
      if (data.subarray(0, interim.length).equals(interim)) data = data.subarray(interim.length);
      if (data.length === 0) return resolve({ status: undefined, body: "", headers: {} });
      try {
        const answer = parseRawResponse(data);
        resolve({ status: answer.status, body: answer.body, headers: answer.headers });
      } catch (error) {
        reject(error);
      }
    });
    socket.once("connect", async () => {
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (awaitContinue) {
        await new Promise<void>((go) => {
          const waited = setTimeout(go, CONTINUE_WAIT_MS);
          continued = () => {
            clearTimeout(waited);
            go();
          };
        });
        continued = undefined;
      }
      for (const piece of pieces) {
        await tick();
        socket.write(piece);
      }
      await tick();
      if (scenario.ending === "abort") socket.destroy();
      else if (scenario.ending === "half-close") socket.end();
    });
  });
}

/** Whether `data` holds a whole final response (after any `100 Continue`): its Content-Length, or its last chunk. */
function isCompleteResponse(data: Buffer): boolean {
  const interim = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n");
  if (data.subarray(0, interim.length).equals(interim)) data = data.subarray(interim.length);
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = data.subarray(0, end).toString("latin1");
  const body = data.subarray(end + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length) return body.length >= Number(length[1]);
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head))
    return body.includes("\r\n0\r\n\r\n") || body.subarray(0, 5).toString() === "0\r\n\r\n";
  return false;
}

/** The same delivery, but the client keeps its side open and waits for the answer (a well-behaved client). */
export function patiently(scenario: RawScenario): RawScenario {
  return {
    ...scenario,
    name: `${scenario.name.replace(/, then a half-close$/, "")}, waiting for the answer`,
    ending: "wait",
  };
}

/** Parses an HTTP/1.1 response read until the server closed the connection (content-length or chunked). */
export function parseRawResponse(data: Buffer): { status: number; headers: Record<string, string[]>; body: string } {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) throw new Error(`incomplete HTTP response: ${JSON.stringify(data.toString("latin1").slice(0, 200))}`);
  const [statusLine, ...headerLines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!status) throw new Error(`bad status line: ${statusLine}`);
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
  }
  let body = data.subarray(end + 4);
  if (headers["transfer-encoding"]?.some((v) => /chunked/i.test(v))) {
    const out: Buffer[] = [];
    let at = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      const lineEnd = body.indexOf("\r\n", at);
      if (lineEnd < 0) break;
      const size = Number.parseInt(body.subarray(at, lineEnd).toString("latin1"), 16);
      if (!size) break;
      out.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(out);
  }
  return { status, headers, body: body.toString("utf8") };
}
