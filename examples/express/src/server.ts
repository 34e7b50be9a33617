import { DescopeMcpError } from "@descope-mcp/core";
import { createApp } from "./app.js";

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const portText = process.env.PORT ?? "3001";
const port = Number(portText);
if (!/^\d+$/.test(portText) || port < 0 || port > 65535)
  fail(`PORT must be a port number (0-65535), got "${portText}"`);

let created: ReturnType<typeof createApp>;
try {
  created = createApp(process.env);
} catch (error) {
  if (error instanceof DescopeMcpError) fail(error.message);
  throw error;
}
const { app, auth } = created;

const server = app.listen(port, "127.0.0.1", () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  console.log(
    `descope-mcp express example listening on http://127.0.0.1:${actual}${auth.config.mcpPath} (resource ${auth.config.resourceURL})`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
