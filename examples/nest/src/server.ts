import { DescopeMcpError } from "@descope-mcp/core";
import { createApp, platformOf } from "./app.js";

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const portText = process.env.PORT ?? "3001";
const port = Number(portText);
if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
  fail(`PORT must be a port number (0-65535), got "${portText}"`);
}

let created: Awaited<ReturnType<typeof createApp>>;
try {
  created = await createApp(process.env);
} catch (error) {
  if (error instanceof DescopeMcpError) fail(error.message);
  throw error;
}
const { app, auth } = created;

await app.listen(port, "127.0.0.1");
const address = app.getHttpServer().address();
const actual = typeof address === "object" && address ? address.port : port;
console.log(
  `descope-mcp nest example (${platformOf(process.env)}) listening on http://127.0.0.1:${actual}${auth.config.mcpPath} (resource ${auth.config.resourceURL})`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
