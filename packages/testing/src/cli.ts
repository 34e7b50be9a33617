#!/usr/bin/env node
// The `descope-emulator` command: runs the emulator until SIGINT/SIGTERM (see the package README).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startDescopeEmulator } from "./emulator.js";
import type { EmulatorOptions } from "./types.js";

const USAGE = `Usage: descope-emulator [options]

  --port <n>             port to listen on (default 4000; 0 = random)
  --host <host>          interface to bind (default 127.0.0.1)
  --project-id <P…>      project ID (default P2EmuLat0rPr0jectId000000001)
  --mcp-server-id <M…>   MCP server ID (default MEmulat0rMcpServer0000000001)
  --management-key <k>   management key (default emulator-management-key)
  --audience <url>       default token audience (repeatable)
  --connect <appId>      mark an outbound app as connected (repeatable)
  --client-metadata-ca <file>
                         also trust this PEM CA certificate when fetching client ID
                         metadata documents (repeatable)
  --no-client-metadata-documents
                         turn Client ID Metadata Documents off
  --no-dynamic-registration
                         turn dynamic client registration off
  -h, --help             show this help

Runs until SIGINT/SIGTERM.`;

function fail(message: string): never {
  process.stderr.write(`descope-emulator: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const parseCli = (args: string[]) =>
  parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "project-id": { type: "string" },
      "mcp-server-id": { type: "string" },
      "management-key": { type: "string" },
      audience: { type: "string", multiple: true },
      connect: { type: "string", multiple: true },
      "client-metadata-ca": { type: "string", multiple: true },
      "no-client-metadata-documents": { type: "boolean" },
      "no-dynamic-registration": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });

async function main(): Promise<void> {
  let values: ReturnType<typeof parseCli>["values"];
  try {
    ({ values } = parseCli(process.argv.slice(2)));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = values.port === undefined ? 4000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be an integer 0–65535, got "${values.port}"`);
  const audience = values.audience;
  const caFiles = values["client-metadata-ca"] ?? [];
  if (values["no-client-metadata-documents"] && caFiles.length > 0) {
    fail("--client-metadata-ca and --no-client-metadata-documents contradict each other");
  }
  const ca = caFiles.map((file) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      return fail(
        `cannot read --client-metadata-ca ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  });
  const options: EmulatorOptions = {
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values["project-id"] !== undefined ? { projectId: values["project-id"] } : {}),
    ...(values["mcp-server-id"] !== undefined ? { mcpServerId: values["mcp-server-id"] } : {}),
    ...(values["management-key"] !== undefined ? { managementKey: values["management-key"] } : {}),
    ...(audience && audience.length > 0
      ? { audience: audience.length === 1 ? (audience[0] as string) : audience }
      : {}),
    connections: Object.fromEntries((values.connect ?? []).map((appId) => [appId, { status: "connected" as const }])),
    clientIdMetadataDocuments: values["no-client-metadata-documents"] ? false : { ca },
    dynamicClientRegistration: !values["no-dynamic-registration"],
  };
  let emulator: Awaited<ReturnType<typeof startDescopeEmulator>>;
  try {
    emulator = await startDescopeEmulator(options);
  } catch (error) {
    process.stderr.write(`descope-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  process.stdout.write(
    [
      `Descope emulator listening on ${emulator.baseURL}`,
      `issuer: ${emulator.issuerURL}`,
      `well-known: ${emulator.wellKnownURL}`,
      `jwks: ${emulator.jwksURL}`,
      `base-url: ${emulator.baseURL}`,
      `project-id: ${emulator.projectId}`,
      `mcp-server-id: ${emulator.mcpServerId}`,
      `management-key: ${emulator.managementKey}`,
      "",
    ].join("\n"),
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

void main();
