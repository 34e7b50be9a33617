// The official MCP clients (v2 and v1) through the whole OAuth flow against a recipe server (tools
// `whoami` → the caller's user ID, `write_note` → "saved", which needs `notes:write`). The recipes
// set no challengeScopes, so the first authorization asks for the least (`openid`, the default
// challenge) and `write_note` steps up: its 403 names `notes:write`, and the client authorizes again.
import { HeadlessOAuthClient } from "@descope-mcp/testing";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from "@modelcontextprotocol/client";
import { UnauthorizedError as UnauthorizedV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const textOf = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text;

export interface FlowResult {
  firstStatus: number;
  whoami: string | undefined;
  saved: string | undefined;
  authorizations: number;
}

/** 401 → discovery → registration → authorize (PKCE) → token → whoami → write_note. */
export async function runClientFlowOn(mcpURL: string, sdk: "v1" | "v2"): Promise<FlowResult> {
  const oauth = new HeadlessOAuthClient();
  const url = new URL(mcpURL);
  const statuses: number[] = [];
  const fetchLogged = async (input: string | URL | Request, init?: RequestInit) => {
    const response = await fetch(input, init);
    if (new URL(input instanceof Request ? input.url : input).pathname === url.pathname) statuses.push(response.status);
    return response;
  };
  const v2 = sdk === "v2";
  const make = () =>
    v2
      ? {
          client: new ClientV2({ name: "recipe-test", version: "1.0.0" }),
          transport: new TransportV2(url, { authProvider: oauth as never, fetch: fetchLogged }),
        }
      : {
          client: new ClientV1({ name: "recipe-test", version: "1.0.0" }),
          transport: new TransportV1(url, { authProvider: oauth as never, fetch: fetchLogged }),
        };
  const finish = (transport: TransportV2 | TransportV1) =>
    v2
      ? (transport as TransportV2).finishAuth(oauth.takeCallback().searchParams)
      : (transport as TransportV1).finishAuth(oauth.takeCallback().searchParams.get("code") as string);
  const Unauthorized = v2 ? UnauthorizedV2 : UnauthorizedV1;

  const first = make();
  await first.client.connect(first.transport as never).then(
    () => {
      throw new Error("connected without authorization");
    },
    (error: unknown) => {
      if (!(error instanceof Unauthorized)) throw error;
    },
  );
  await finish(first.transport);
  const { client, transport } = make();
  await client.connect(transport as never);
  const whoami = textOf(await client.callTool({ name: "whoami", arguments: {} }));
  const writeNote = () => client.callTool({ name: "write_note", arguments: {} });
  const saved = textOf(
    await writeNote().catch(async (error: unknown) => {
      if (!(error instanceof Unauthorized)) throw error;
      await finish(transport); // the step-up authorization, then the call again
      return writeNote();
    }),
  );
  await client.close();
  return { firstStatus: statuses[0] as number, whoami, saved, authorizations: oauth.authorizations };
}
