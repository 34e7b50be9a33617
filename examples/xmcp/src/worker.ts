// The Cloudflare Worker: xmcp's worker (`xmcp build --cf` writes ../worker.js) behind Descope.
// descopeWorker serves the discovery metadata and gates the endpoint; the provider's middleware
// inside xmcp's worker hands the caller to the tools.
import { descopeWorker } from "@descope-mcp/xmcp";
// @ts-expect-error: ../worker.js is written by `xmcp build --cf` (plain JavaScript, no types)
import xmcpWorker from "../worker.js";
import descope from "./middleware";

export default descopeWorker(xmcpWorker, descope);
