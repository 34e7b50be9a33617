import { randomBytes } from "node:crypto";
import type { MetadataDocumentPolicy } from "./client-metadata.js";
import type { KeyStore } from "./keys.js";
import type { TokenFactory } from "./tokens.js";
import type { ConnectionState, EmulatorUser } from "./types.js";

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  clientIdIssuedAt: number;
  redirectUris: string[];
  grantTypes: string[];
  responseTypes: string[];
  authMethod: "none" | "client_secret_post" | "client_secret_basic";
  clientName?: string;
  scope?: string;
  /** Resolved from a client ID metadata document for this one request (never stored). */
  metadataDocument?: boolean;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  /** Whether `redirect_uri` was sent at authorize (then it is required at the token endpoint). */
  redirectUriGiven: boolean;
  scopes: string[];
  resource?: string;
  user: EmulatorUser;
  codeChallenge: string;
  expiresAt: number;
  used: boolean;
}

export interface RefreshGrant {
  clientId: string;
  scopes: string[];
  resource?: string;
  user: EmulatorUser;
  /** The authorization code this grant descends from (reuse of that code revokes the family). */
  family: string;
  revoked: boolean;
}

export interface EmulatorURLs {
  baseURL: string;
  issuerURL: string;
  wellKnownURL: string;
  jwksURL: string;
}

export interface EmulatorState {
  projectId: string;
  mcpServerId: string;
  managementKey: string;
  urls: EmulatorURLs;
  keys: KeyStore;
  tokens: TokenFactory;
  user: EmulatorUser;
  users: EmulatorUser[];
  audience: string | string[] | undefined;
  grantableScopes: string[] | undefined;
  scopesSupported: string[];
  ttlSeconds: number;
  connections: Map<string, ConnectionState>;
  /** Whether the registration endpoint is served and advertised. */
  dynamicRegistration: boolean;
  /** How client ID metadata documents are fetched; `undefined` when they are not supported. */
  metadataDocuments: MetadataDocumentPolicy | undefined;
  clients: Map<string, RegisteredClient>;
  codes: Map<string, AuthorizationCode>;
  refreshTokens: Map<string, RefreshGrant>;
}

export const OUTBOUND_SCOPE = "outbound.token.fetch";
export const CODE_TTL_MS = 60_000;

export const randomId = (prefix: string, bytes = 24): string => `${prefix}${randomBytes(bytes).toString("base64url")}`;

export const splitScopes = (scope: string | null | undefined): string[] => [
  ...new Set((scope ?? "").split(" ").filter((s) => s.length > 0)),
];

/** The default login user (frozen; the emulator works on copies). */
export const DEFAULT_USER: Readonly<EmulatorUser> = Object.freeze({
  userId: "U2EmulatorUser0001",
  email: "ada@example.com",
  name: "Ada Lovelace",
  loginIds: Object.freeze(["ada@example.com"]) as string[],
  roles: Object.freeze([]) as unknown as string[],
  permissions: Object.freeze([]) as unknown as string[],
  tenants: Object.freeze({}),
});

export function mergeUser(base: EmulatorUser, patch: Partial<EmulatorUser> | undefined): EmulatorUser {
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = structuredClone(v);
  }
  return out;
}
