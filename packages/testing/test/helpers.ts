import { createHash, randomBytes } from "node:crypto";
import type { DescopeEmulator } from "../src/index.js";

export const REDIRECT_URI = "http://127.0.0.1:9999/callback";
export const RESOURCE = "https://mcp.example.com/mcp";

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export const decodePart = (token: string, index: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split(".")[index] as string, "base64url").toString("utf8")) as Record<string, unknown>;

export const header = (token: string) => decodePart(token, 0);
export const payload = (token: string) => decodePart(token, 1);

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function endpoints(emu: DescopeEmulator) {
  const p = emu.projectId;
  const m = emu.mcpServerId;
  return {
    register: `${emu.baseURL}/v1/mgmt/mcp/client/${p}/${m}/register`,
    authorize: `${emu.baseURL}/oauth2/v1/apps/agentic/${p}/${m}/authorize`,
    token: `${emu.baseURL}/oauth2/v1/apps/agentic/${p}/${m}/token`,
    userToken: `${emu.baseURL}/v1/mgmt/outbound/app/user/token`,
    userTokenLatest: `${emu.baseURL}/v1/mgmt/outbound/app/user/token/latest`,
    tenantToken: `${emu.baseURL}/v1/mgmt/outbound/app/tenant/token`,
    tenantTokenLatest: `${emu.baseURL}/v1/mgmt/outbound/app/tenant/token/latest`,
    users: `${emu.baseURL}/v1/mgmt/user`,
  };
}

export async function registerClient(
  emu: DescopeEmulator,
  metadata: Record<string, unknown> = {},
): Promise<{ client_id: string; client_secret?: string }> {
  const res = await fetch(endpoints(emu).register, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: "Test client", ...metadata }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { client_id: string; client_secret?: string };
}

export interface AuthorizeParams {
  client_id: string;
  redirect_uri?: string;
  response_type?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  scope?: string;
  state?: string;
  resource?: string;
}

export async function authorizeRaw(
  emu: DescopeEmulator,
  params: Record<string, string | undefined>,
): Promise<Response> {
  const url = new URL(endpoints(emu).authorize);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return fetch(url, { redirect: "manual" });
}

/** A well-formed authorization request for `clientId` (PKCE S256, scope, state, resource) and its verifier. */
export function authorizeParams(clientId: string): { params: AuthorizeParams; verifier: string } {
  const { verifier, challenge } = pkce();
  return {
    verifier,
    params: {
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      scope: "openid notes:read",
      state: "xyz",
      resource: RESOURCE,
    },
  };
}

/** Runs authorize with sane defaults and returns the code plus what was used. */
export async function getCode(
  emu: DescopeEmulator,
  clientId: string,
  overrides: Partial<AuthorizeParams> = {},
): Promise<{ code: string; verifier: string; location: URL }> {
  const { verifier, params } = authorizeParams(clientId);
  const res = await authorizeRaw(emu, { ...params, ...overrides });
  if (res.status !== 302) throw new Error(`authorize failed: ${res.status} ${await res.text()}`);
  const location = new URL(res.headers.get("location") as string);
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`no code in ${location}`);
  return { code, verifier, location };
}

export function tokenRequest(
  emu: DescopeEmulator,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
  return fetch(endpoints(emu).token, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

export function postJson(url: string, body: unknown, authorization?: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization !== undefined ? { authorization } : {}) },
    body: JSON.stringify(body),
  });
}
