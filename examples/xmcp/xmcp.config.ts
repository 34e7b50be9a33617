import type { XmcpConfig } from "xmcp";

/**
 * xmcp evaluates this file when it builds, and bakes `http` into the bundle. The `bundler` hook
 * turns the baked port, host and endpoint into run-time reads of `PORT`, `HOST` and `MCP_PATH`
 * (on both targets: Workers bindings are in `process.env` too), so one build serves any of them.
 * It edits the definitions xmcp hands rspack's DefinePlugin (`HTTP_CONFIG`), an internal of
 * xmcp 1.1 / rspack 1.7: the build fails loudly if it is not found.
 */
const config: XmcpConfig = {
  http: { endpoint: "/mcp", port: 3001, host: "127.0.0.1" },
  typescript: { skipTypeCheck: true },
  paths: { tools: "src/tools", prompts: false, resources: false },
  bundler: (rspack: { plugins?: unknown[] }) => {
    let found = false;
    for (const plugin of rspack.plugins ?? []) {
      const definitions = (plugin as { _args?: Array<Record<string, string>> })?._args?.[0];
      if (plugin?.constructor?.name !== "DefinePlugin" || !definitions || !("HTTP_CONFIG" in definitions)) continue;
      const baked = JSON.parse(definitions.HTTP_CONFIG as string);
      definitions.HTTP_CONFIG = `({
        port: Number(process.env.PORT || ${Number(baked.port)}),
        host: process.env.HOST || ${JSON.stringify(baked.host)},
        bodySizeLimit: ${Number(baked.bodySizeLimit)},
        endpoint: process.env.MCP_PATH || ${JSON.stringify(baked.endpoint)},
        debug: ${baked.debug === true},
      })`;
      found = true;
    }
    if (!found)
      throw new Error("xmcp.config.ts: xmcp's HTTP_CONFIG definition was not found; PORT and MCP_PATH would be baked");
    return rspack;
  },
};

export default config;
