import { type EmulatorResponse, json } from "./http.js";
import type { EmulatorState } from "./state.js";

/** The authorization server metadata Descope serves for an MCP server. */
export function discoveryDocument(state: EmulatorState): Record<string, unknown> {
  const { baseURL, issuerURL, jwksURL } = state.urls;
  const { projectId: p, mcpServerId: m } = state;
  return {
    issuer: issuerURL,
    authorization_endpoint: `${baseURL}/oauth2/v1/apps/agentic/${p}/${m}/authorize`,
    token_endpoint: `${baseURL}/oauth2/v1/apps/agentic/${p}/${m}/token`,
    registration_endpoint: `${baseURL}/v1/mgmt/mcp/client/${p}/${m}/register`,
    jwks_uri: jwksURL,
    scopes_supported: [...state.scopesSupported],
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    id_token_signing_alg_values_supported: ["RS256"],
    authorization_response_iss_parameter_supported: true,
  };
}

export function discoveryPaths(state: EmulatorState): string[] {
  const issuerPath = `/v1/apps/agentic/${state.projectId}/${state.mcpServerId}`;
  return [
    `${issuerPath}/.well-known/openid-configuration`,
    `/.well-known/openid-configuration${issuerPath}`,
    `/.well-known/oauth-authorization-server${issuerPath}`,
    `${issuerPath}/.well-known/oauth-authorization-server`,
  ];
}

export const jwksPaths = (state: EmulatorState): string[] => [
  `/${state.projectId}/.well-known/jwks.json`,
  `/v2/keys/${state.projectId}`,
];

export const serveDiscovery = (state: EmulatorState): EmulatorResponse =>
  json(200, discoveryDocument(state), { "cache-control": "no-cache" });

export const serveJwks = (state: EmulatorState): EmulatorResponse =>
  json(200, state.keys.jwks(), { "cache-control": "no-cache" });
