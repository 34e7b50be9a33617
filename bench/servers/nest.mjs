// The Nest example as a benchmark target (Express platform; bench/servers/nest-fastify.mjs runs the
// Fastify one): `auth` is the real example app; `noauth` is the same app without DescopeMcpAuthModule
// and its guard (same controller, same MCP endpoint, same tools). Same shape as express.mjs.
import { createApp } from "@descope-mcp/example-nest/app";

const mode = process.argv[2];
const { app } = await createApp(process.env, { guarded: mode === "auth" });
await app.listen(Number(process.env.PORT), "127.0.0.1");
console.log(`listening (${mode}, ${process.env.NEST_PLATFORM ?? "express"})`);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
