// The real-client flow shared by `pnpm demo` and the end-to-end tests: the official MCP TypeScript SDK
// client (v2 `@modelcontextprotocol/client` or v1 `@modelcontextprotocol/sdk`) runs the whole OAuth
// flow headlessly against an example server protected by descope-mcp and the local Descope emulator.
import { randomUUID } from "node:crypto";
import { HeadlessOAuthClient } from "@descope-mcp/testing";

/** Loads one SDK major behind a common face. */
export async function loadSdk(major) {
  if (major === "v2") {
    const m = await import("@modelcontextprotocol/client");
    return {
      major,
      Client: m.Client,
      Transport: m.StreamableHTTPClientTransport,
      UnauthorizedError: m.UnauthorizedError,
      // v2 checks RFC 9207 `iss` from the callback parameters.
      finishAuth: (transport, callback) => transport.finishAuth(callback.searchParams),
    };
  }
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
  const { UnauthorizedError } = await import("@modelcontextprotocol/sdk/client/auth.js");
  return {
    major,
    Client,
    Transport: StreamableHTTPClientTransport,
    UnauthorizedError,
    finishAuth: (transport, callback) => transport.finishAuth(callback.searchParams.get("code")),
  };
}

const textOf = (result) => result.content?.find((c) => c.type === "text")?.text ?? "";

/**
 * Runs: 401 → metadata discovery → registration → authorize (PKCE) → token → tools/list → whoami →
 * write_note refused (403 insufficient_scope) → re-authorize with the scope → write_note →
 * connection_status. Returns what happened, step by step, for printing and asserting.
 *
 * `registration`: `"dcr"` (dynamic client registration) or `"cimd"` (a client ID metadata document,
 * published on `clientMetadataHost` — a `startClientMetadataHost()` the emulator trusts — for the flow).
 */
export async function runClientFlow({
  mcpURL,
  sdk: major = "v2",
  registration = "dcr",
  clientMetadataHost,
  say = () => {},
}) {
  if (registration !== "dcr" && registration !== "cimd") throw new Error(`unknown registration "${registration}"`);
  if (registration === "cimd" && !clientMetadataHost) throw new Error("registration cimd needs a clientMetadataHost");
  const sdk = await loadSdk(major);
  const http = [];
  const steps = [];
  const step = (line) => {
    steps.push(line);
    say(line);
  };
  // Every HTTP exchange the SDK makes, without tokens.
  const loggingFetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    http.push({
      method: init?.method ?? "GET",
      url: url.href,
      path: url.pathname,
      status: response.status,
      challenge: response.headers.get("www-authenticate") ?? undefined,
    });
    return response;
  };
  let discoveryShown = false;
  const showDiscovery = () => {
    if (discoveryShown) return;
    discoveryShown = true;
    const discovered = http.filter((h) => h.path.includes("/.well-known/")).map((h) => `${h.path} → ${h.status}`);
    step(`metadata discovery: ${discovered.join(", ")}`);
  };
  const clientMetadataUrl =
    registration === "cimd" ? clientMetadataHost.url(`/clients/${major}-${randomUUID()}.json`) : undefined;
  const oauth = new HeadlessOAuthClient({
    clientName: `descope-mcp demo (${major})`,
    ...(clientMetadataUrl ? { clientMetadataUrl } : {}),
    onStep: (line) => {
      showDiscovery();
      step(line);
    },
  });
  if (clientMetadataUrl) clientMetadataHost.publish(oauth.clientMetadataDocument);
  const newTransport = () => new sdk.Transport(new URL(mcpURL), { authProvider: oauth, fetch: loggingFetch });

  // 1. Unauthenticated request: 401 with a challenge pointing at the metadata.
  const probe = await fetch(mcpURL, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "tools/list" }),
  });
  step(
    `POST ${new URL(mcpURL).pathname} without a token → ${probe.status}, WWW-Authenticate: ${probe.headers.get("www-authenticate")}`,
  );

  // 2. The SDK discovers, registers and authorizes; the headless provider follows the redirect.
  let transport = newTransport();
  let client = new sdk.Client({ name: "descope-mcp-demo", version: "1.0.0" });
  try {
    await client.connect(transport);
    throw new Error("expected the first connect to need authorization");
  } catch (error) {
    if (!(error instanceof sdk.UnauthorizedError)) throw error;
  }
  await sdk.finishAuth(transport, oauth.takeCallback());
  transport = newTransport();
  client = new sdk.Client({ name: "descope-mcp-demo", version: "1.0.0" });
  await client.connect(transport);
  step(`connected with ${sdk.major} client`);

  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  step(`tools/list → ${tools.join(", ")}`);
  const whoami = JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })));
  step(`whoami → user ${whoami.userId}, client ${whoami.clientId}, scopes "${whoami.scopes.join(" ")}"`);

  // 3. write_note needs notes:write: 403 insufficient_scope, then step-up.
  let refused;
  const before = http.length;
  try {
    await client.callTool({ name: "write_note", arguments: { text: "hello from the demo" } });
    throw new Error("write_note should have been refused before step-up");
  } catch (error) {
    if (!(error instanceof sdk.UnauthorizedError) || !oauth.hasPendingCallback) throw error;
    refused = http.slice(before).find((h) => h.status === 403);
    step(`write_note → ${refused?.status} ${refused?.challenge}`);
  }
  await sdk.finishAuth(transport, oauth.takeCallback());
  step(`re-authorized with scope "${oauth.lastRequestedScope}"`);
  const note = JSON.parse(
    textOf(await client.callTool({ name: "write_note", arguments: { text: "hello from the demo" } })),
  );
  step(`write_note → ${JSON.stringify(note)}`);
  const connection = JSON.parse(textOf(await client.callTool({ name: "connection_status", arguments: {} })));
  step(`connection_status → ${JSON.stringify(connection)}`);
  await client.close();
  if (clientMetadataUrl) clientMetadataHost.unpublish(new URL(clientMetadataUrl).pathname);
  return {
    steps,
    http,
    tools,
    whoami,
    refused,
    note,
    connection,
    authorizations: oauth.authorizations,
    oauth,
    clientId: oauth.clientInformation()?.client_id,
  };
}
