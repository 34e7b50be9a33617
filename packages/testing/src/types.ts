/** A user known to the emulator: the one who "logs in" at authorize, or one loadable via the management API. */
export interface EmulatorUser {
  userId: string;
  email: string;
  name: string;
  loginIds: string[];
  roles: string[];
  permissions: string[];
  tenants: Record<string, { roles?: string[]; permissions?: string[] }>;
}

/** The state of one outbound app ("connection") for the emulated user. */
export type ConnectionState =
  | { status: "connected"; accessToken?: string; scopes?: string[]; expiresInSeconds?: number }
  | { status: "not_connected" }
  | { status: "denied" };

/** Which group of endpoints a fault applies to. `"all"` applies to every request, including unknown paths. */
export type FaultTarget = "discovery" | "jwks" | "register" | "authorize" | "token" | "outbound" | "users" | "all";

/**
 * A fault injected before normal handling: wait `delayMs`, then either drop the socket (`destroy`),
 * answer `status`/`body` (with `headers`), or, when only `delayMs` is given, handle the request normally.
 */
export interface Fault {
  delayMs?: number;
  /** Answer with this status (default 500 when only `body` is given). */
  status?: number;
  /** Raw response body, e.g. `"not json"`. Default: a JSON error body. Sent as `application/json` unless `headers` says otherwise. */
  body?: string;
  /** Extra response headers for a `status`/`body` fault (extension). */
  headers?: Record<string, string>;
  /** Drop the socket without answering. */
  destroy?: boolean;
}

/**
 * How the emulator fetches Client ID Metadata Documents (CIMD): the client sends an https URL as its
 * `client_id`, and the emulator fetches the JSON document at that URL at every authorize and token
 * request (no caching, so a test may change the document between steps).
 */
export interface ClientIdMetadataDocumentOptions {
  /**
   * Extra CA certificates (PEM) trusted when fetching client ID URLs, on top of Node's bundled roots —
   * e.g. the `ca` of a {@link ClientMetadataHost}, whose self-signed certificate makes an offline
   * `https://127.0.0.1:<port>/…` client ID work. The https requirement itself is never relaxed.
   */
  ca?: string | readonly string[];
  /** Give up on a document fetch after this many milliseconds (then `invalid_client`). Default 5000. */
  timeoutMs?: number;
  /** Refuse documents larger than this many bytes. Default 5120 (the draft's suggested cap). */
  maxBytes?: number;
}

/** Options of {@link startDescopeEmulator}; every one is optional. */
export interface EmulatorOptions {
  /** Default 0 (a random free port). */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default "P2EmuLat0rPr0jectId000000001" (28 chars). */
  projectId?: string;
  /** Default "MEmulat0rMcpServer0000000001". */
  mcpServerId?: string;
  /** Default "emulator-management-key". */
  managementKey?: string;
  /** `aud` for minted tokens (and code-flow tokens without `resource`) when none is given; default the project ID. */
  audience?: string | string[];
  /** The user who logs in at authorize; merged over the default user. */
  user?: Partial<EmulatorUser>;
  /** When set, authorize grants requested ∩ grantable; default: every requested scope. */
  grantableScopes?: string[];
  /** Added to the discovery `scopes_supported` defaults. */
  scopesSupported?: string[];
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Connection state per outbound app ID; an app not listed is "not connected". */
  connections?: Record<string, ConnectionState>;
  /** Extra users loadable via the management API (the login user always is). */
  users?: EmulatorUser[];
  /**
   * Dynamic client registration (RFC 7591). Default `true`. `false`: discovery has no
   * `registration_endpoint` and the registration path answers 404, like a Descope MCP server with DCR
   * turned off (clients must then use a client ID metadata document).
   */
  dynamicClientRegistration?: boolean;
  /**
   * Client ID Metadata Documents. Default `true` (enabled with default options): discovery advertises
   * `client_id_metadata_document_supported: true` and an https `client_id` is resolved by fetching it.
   * `false`: not advertised, and such a `client_id` is an unknown client.
   */
  clientIdMetadataDocuments?: boolean | ClientIdMetadataDocumentOptions;
}

export interface MintOptions {
  /** Default `accessTokenTtlSeconds`; negative values mint already-expired tokens. */
  expiresInSeconds?: number;
  /** Override the `kid` header (the token is still signed with the current key). */
  kid?: string;
  /** Extra/overriding protected header parameters; a parameter set to `undefined` is removed. */
  header?: Record<string, unknown>;
  /** Omit `exp`. */
  noExp?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path name without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON, a form object, the raw string when neither parses, or `undefined` when empty. */
  body: unknown;
  /** `Date.now()` when the request was received. */
  at: number;
}

export type HostileTokenFactory = (claims?: Record<string, unknown>) => Promise<string>;

/** Tokens with one specific defect each (otherwise valid for the emulator's default audience). */
export interface HostileTokens {
  valid: HostileTokenFactory;
  expired: HostileTokenFactory;
  notYetValid: HostileTokenFactory;
  issuedInFuture: HostileTokenFactory;
  missingExp: HostileTokenFactory;
  wrongAudience: HostileTokenFactory;
  wrongIssuer: HostileTokenFactory;
  otherProject: HostileTokenFactory;
  otherHost: HostileTokenFactory;
  algNone: HostileTokenFactory;
  hs256WithPublicKey: HostileTokenFactory;
  hs512WithPublicKey: HostileTokenFactory;
  foreignKey: HostileTokenFactory;
  unknownKid: HostileTokenFactory;
  missingKid: HostileTokenFactory;
  tampered: HostileTokenFactory;
  strippedSignature: HostileTokenFactory;
  truncatedSignature: HostileTokenFactory;
  critHeader: HostileTokenFactory;
  jkuHeader: HostileTokenFactory;
  x5uHeader: HostileTokenFactory;
  jwkHeader: HostileTokenFactory;
  oversized: HostileTokenFactory;
  /** Claims overrides are ignored: the payload is not JSON. */
  nonJsonPayload: HostileTokenFactory;
  /** Claims overrides are ignored: the payload is a JSON array. */
  nonObjectPayload: HostileTokenFactory;
}

export interface DescopeEmulator {
  /** "http://127.0.0.1:<port>" */
  baseURL: string;
  /** `${baseURL}/v1/apps/agentic/${projectId}/${mcpServerId}` */
  issuerURL: string;
  /** `${issuerURL}/.well-known/openid-configuration` */
  wellKnownURL: string;
  /** `${baseURL}/${projectId}/.well-known/jwks.json` */
  jwksURL: string;
  projectId: string;
  mcpServerId: string;
  managementKey: string;
  mintToken(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  tokens: HostileTokens;
  /** A new key becomes the signing key; the old one stays published in the JWKS. */
  rotateKeys(): Promise<void>;
  /** Remove every key but the current one from the JWKS. */
  retireOldKeys(): void;
  /** Merge into the current login user. */
  setUser(user: Partial<EmulatorUser>): void;
  setConnection(appId: string, state: ConnectionState): void;
  setGrantableScopes(scopes: string[] | undefined): void;
  setFault(target: FaultTarget, fault: Fault | undefined): void;
  /** Stop listening (connection refused) but keep state and port. */
  suspend(): Promise<void>;
  /** Listen again on the same port. */
  resume(): Promise<void>;
  /** Every request received, in order (including faulted ones). */
  requests: RecordedRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}
