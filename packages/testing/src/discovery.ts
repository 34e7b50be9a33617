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
    ...(state.dynamicRegistration ? { registration_endpoint: registrationPath(state, baseURL) } : {}),
    jwks_uri: jwksURL,
    scopes_supported: [...state.scopesSupported],
    response_types_supported: ["code"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
    id_token_signing_alg_values_supported: ["RS256"],
    authorization_response_iss_parameter_supported: true,
    ...(state.metadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
}

/** The dynamic client registration endpoint (RFC 7591), on Descope's management API path. */
export const registrationPath = (state: EmulatorState, baseURL = ""): string =>
  `${baseURL}/v1/mgmt/mcp/client/${state.projectId}/${state.mcpServerId}/register`;

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
