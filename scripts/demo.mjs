// pnpm demo: the local Descope emulator + the Express example + the official MCP client (v2), headless.
// `node scripts/demo.mjs [framework] [v2|v1] [dcr|cimd]`: cimd identifies the client with a client ID
// metadata document (served over HTTPS on 127.0.0.1) instead of dynamic client registration.
import { startClientMetadataHost, startDescopeEmulator } from "@descope-mcp/testing";
import { runClientFlow } from "../e2e/flow.mjs";
import { startExample } from "../e2e/servers.mjs";

const framework = process.argv[2] ?? "express";
const sdk = process.argv[3] ?? "v2";
const registration = process.argv[4] ?? "dcr";
const say = (line) => console.log(line);

const clientMetadataHost = registration === "cimd" ? await startClientMetadataHost() : undefined;
const emulator = await startDescopeEmulator({
  connections: {
    "google-calendar": { status: "connected", scopes: ["https://www.googleapis.com/auth/calendar.readonly"] },
  },
  ...(clientMetadataHost ? { clientIdMetadataDocuments: { ca: clientMetadataHost.ca } } : {}),
});
let server;
let failed = false;
try {
  say(`Descope emulator   ${emulator.issuerURL}`);
  server = await startExample(framework, { DESCOPE_ISSUER_URL: emulator.issuerURL });
  say(`${framework} example   ${server.mcpURL}`);
  if (clientMetadataHost)
    say(`client metadata    ${clientMetadataHost.baseURL} (HTTPS, self-signed, trusted by the emulator)`);
  say("");
  await runClientFlow({ mcpURL: server.mcpURL, sdk, registration, clientMetadataHost, say });
  say("");
  say("Demo complete: every step above ran over real HTTP on 127.0.0.1.");
} catch (error) {
  failed = true;
  console.error(`Demo failed: ${error instanceof Error ? error.stack : error}`);
  if (server) console.error(server.output());
} finally {
  await server?.stop();
  await emulator.close();
  await clientMetadataHost?.close();
}
process.exit(failed ? 1 : 0);
