/** A user known to the emulator: the one who "logs in" at authorize, or one loadable via the management API. */
export interface EmulatorUser {
  /** The Descope user ID: the `sub` of the user's tokens. */
  userId: string;
  /** The `email` claim. */
  email: string;
  /** Display name (management API). */
  name: string;
  /** The `loginIds` claim. */
  loginIds: string[];
  /** Project-level roles (`roles` claim). */
  roles: string[];
  /** Project-level permissions (`permissions` claim). */
  permissions: string[];
  /** Tenant memberships with their roles and permissions (`tenants` claim), by tenant ID. */
  tenants: Record<
    string,
    {
      /** Roles in this tenant. */
      roles?: string[];
      /** Permissions in this tenant. */
      permissions?: string[];
    }
  >;
}

/** The state of one outbound app ("connection") for the emulated user. */
export type ConnectionState =
  | {
      /** The user connected the app: token requests succeed. */
      status: "connected";
      /** The third-party access token handed out; default `emu-<appId>-access-token`. */
      accessToken?: string;
      /** The scopes the connection was granted; a request for a scope outside them answers 404. */
      scopes?: string[];
      /** Lifetime of the handed-out token; default 3600. */
      expiresInSeconds?: number;
    }
  | {
      /** The user never connected the app: token requests answer 404. */
      status: "not_connected";
    }
  | {
      /** A Descope policy denies the token: requests answer 403. */
      status: "denied";
    };

/** Which group of endpoints a fault applies to. `"all"` applies to every request, including unknown paths. */
export type FaultTarget = "discovery" | "jwks" | "register" | "authorize" | "token" | "outbound" | "users" | "all";

/**
 * A fault injected before normal handling: wait `delayMs`, then either drop the socket (`destroy`),
 * answer `status`/`body` (with `headers`), or, when only `delayMs` is given, handle the request normally.
 */
export interface Fault {
  /** Wait this many milliseconds first; alone, the request is then handled normally. */
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

/** Options of {@link DescopeEmulator.mintToken}. */
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

/** One request the emulator received, as {@link DescopeEmulator.requests} records it. */
export interface RecordedRequest {
  /** Upper-case method. */
  method: string;
  /** Path name without the query string. */
  path: string;
  /** Query parameters (the last value of a repeated one). */
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON, a form object, the raw string when neither parses, or `undefined` when empty. */
  body: unknown;
  /** `Date.now()` when the request was received. */
  at: number;
}

/** Mints one kind of hostile token; `claims` override the defaults like {@link DescopeEmulator.mintToken}'s. */
export type HostileTokenFactory = (claims?: Record<string, unknown>) => Promise<string>;

/** Tokens with one specific defect each (otherwise valid for the emulator's default audience). */
export interface HostileTokens {
  /** No defect: a control for the others. */
  valid: HostileTokenFactory;
  /** `exp` an hour ago. */
  expired: HostileTokenFactory;
  /** `nbf` an hour ahead. */
  notYetValid: HostileTokenFactory;
  /** `iat` an hour ahead. */
  issuedInFuture: HostileTokenFactory;
  /** No `exp` claim. */
  missingExp: HostileTokenFactory;
  /** `aud` is `"https://wrong-audience.example/mcp"`. */
  wrongAudience: HostileTokenFactory;
  /** `iss` on the emulator's host with an unrelated path (`<base>/some/other/issuer`). */
  wrongIssuer: HostileTokenFactory;
  /** `iss` is the agentic issuer of another project on the same host. */
  otherProject: HostileTokenFactory;
  /** `iss` is `https://api.evil.example/v1/apps/agentic/<P>/<M>`. */
  otherHost: HostileTokenFactory;
  /** `alg: "none"` with an empty signature. */
  algNone: HostileTokenFactory;
  /** HS256 keyed with the current public key's SPKI PEM (algorithm confusion), `kid` of the current key. */
  hs256WithPublicKey: HostileTokenFactory;
  /** HS512 keyed with the current public key's SPKI PEM, `kid` of the current key. */
  hs512WithPublicKey: HostileTokenFactory;
  /** RS256 by a key not in the JWKS, with the current key's `kid`. */
  foreignKey: HostileTokenFactory;
  /** RS256 by a key not in the JWKS, with a `kid` not in the JWKS. */
  unknownKid: HostileTokenFactory;
  /** No `kid` header (the signature is valid). */
  missingKid: HostileTokenFactory;
  /** Payload changed after signing (`scope` gains ` admin`). */
  tampered: HostileTokenFactory;
  /** `header.payload.` with no signature. */
  strippedSignature: HostileTokenFactory;
  /** Signature shortened by 8 characters. */
  truncatedSignature: HostileTokenFactory;
  /** `crit: ["x-unknown"]` (the signature is valid). */
  critHeader: HostileTokenFactory;
  /** Signed by the foreign key; `jku` points to a JWKS with it (served by the emulator). */
  jkuHeader: HostileTokenFactory;
  /** Signed by the foreign key; `x5u` points to its PEM (served by the emulator). */
  x5uHeader: HostileTokenFactory;
  /** Signed by the foreign key, which is embedded as `jwk`. */
  jwkHeader: HostileTokenFactory;
  /** Larger than 16 KiB (a 17 KiB `junk` claim), validly signed. */
  oversized: HostileTokenFactory;
  /** Claims overrides are ignored: the payload is not JSON. */
  nonJsonPayload: HostileTokenFactory;
  /** Claims overrides are ignored: the payload is a JSON array. */
  nonObjectPayload: HostileTokenFactory;
}

/** A running emulator (see {@link startDescopeEmulator}): its URLs, identifiers and controls. */
export interface DescopeEmulator {
  /** "http://127.0.0.1:<port>" */
  baseURL: string;
  /** `${baseURL}/v1/apps/agentic/${projectId}/${mcpServerId}` */
  issuerURL: string;
  /** `${issuerURL}/.well-known/openid-configuration` */
  wellKnownURL: string;
  /** `${baseURL}/${projectId}/.well-known/jwks.json` */
  jwksURL: string;
  /** The Descope project ID (`P…`). */
  projectId: string;
  /** The MCP server ID (`M…`). */
  mcpServerId: string;
  /** The management key accepted as `Authorization: Bearer <projectId>:<managementKey>`. */
  managementKey: string;
  /**
   * Mints an RS256 access token with the current key: `iss` = issuer, `sub` = the login user, `aud` =
   * the `audience` option (else the project ID), `scope: "openid"`, `iat`/`exp`, and the user's claims.
   * A claim you pass overrides; a claim set to `undefined` is removed.
   */
  mintToken(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Tokens with exactly one defect each, for refusal tests. */
  tokens: HostileTokens;
  /** A new key becomes the signing key; the old one stays published in the JWKS. */
  rotateKeys(): Promise<void>;
  /** Remove every key but the current one from the JWKS. */
  retireOldKeys(): void;
  /** Merge into the current login user. */
  setUser(user: Partial<EmulatorUser>): void;
  /** Sets the state of one outbound app ("connection") for the login user. */
  setConnection(appId: string, state: ConnectionState): void;
  /** From now on authorize grants requested ∩ `scopes`; `undefined` grants every requested scope again. */
  setGrantableScopes(scopes: string[] | undefined): void;
  /** Injects a fault for a group of endpoints (`undefined` removes it). */
  setFault(target: FaultTarget, fault: Fault | undefined): void;
  /** Stop listening (connection refused) but keep state and port. */
  suspend(): Promise<void>;
  /** Listen again on the same port. */
  resume(): Promise<void>;
  /** Every request received, in order (including faulted ones). */
  requests: RecordedRequest[];
  /** Empties {@link DescopeEmulator.requests} in place. */
  clearRequests(): void;
  /** Stops the emulator for good; idempotent. */
  close(): Promise<void>;
}
