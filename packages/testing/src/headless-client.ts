import type { ClientIdMetadataDocument } from "./metadata-host.js";

/** Options of {@link HeadlessOAuthClient}; every one is optional. */
export interface HeadlessOAuthClientOptions {
  /** Where the authorization server redirects to; nothing needs to listen there. Default `http://127.0.0.1:1/oauth/callback`. */
  redirectUrl?: string;
  /** `client_name` in the client metadata. Default `"descope-mcp headless client"`. */
  clientName?: string;
  /** Scope to register with (the SDK chooses the authorization scope itself). */
  scope?: string;
  /** Registered grant types; add `refresh_token` to be issued refresh tokens. Default `["authorization_code"]`. */
  grantTypes?: string[];
  /**
   * Identify the client with a Client ID Metadata Document instead of dynamic client registration: the
   * https URL (with a path) where {@link HeadlessOAuthClient.clientMetadataDocument} is served. It becomes
   * the `client_id`. The SDK uses it when the authorization server advertises
   * `client_id_metadata_document_supported`, and falls back to dynamic registration otherwise.
   */
  clientMetadataUrl?: string;
  /** Called with a short line for every step (for demos and debugging). Never receives tokens. */
  onStep?: (line: string) => void;
}

/** The client metadata (RFC 7591 §2) this client registers with or publishes. */
export interface HeadlessClientMetadata {
  /** The one redirect URI ({@link HeadlessOAuthClient.redirectUrl}). */
  redirect_uris: string[];
  /** Shown on consent screens. */
  client_name: string;
  /** `["authorization_code"]` unless `grantTypes` says otherwise. */
  grant_types: string[];
  /** `["code"]`. */
  response_types: string[];
  /** `"none"`: a public client (PKCE, no secret). */
  token_endpoint_auth_method: string;
  /** The `scope` option, when given. */
  scope?: string;
}

/**
 * Client information the SDK saved: the registration response (dynamic registration) or
 * `{ client_id: <metadata URL> }` (client ID metadata document), stamped by the SDK with the `issuer`.
 */
export interface HeadlessClientInformation {
  /** The registered client ID, or the client ID metadata document URL. */
  client_id: string;
  /** Present for confidential registrations only. */
  client_secret?: string;
  /** Seconds since the epoch (registration response). */
  client_id_issued_at?: number;
  /** Seconds since the epoch, 0 for never (registration response). */
  client_secret_expires_at?: number;
  /** The authorization server this client information belongs to. */
  issuer?: string;
  [key: string]: unknown;
}

/** Tokens the SDK saved (RFC 6749 §5.1), stamped by the SDK with the `issuer`. */
export interface HeadlessTokens {
  /** The access token (a secret). */
  access_token: string;
  /** `"Bearer"`. */
  token_type: string;
  /** Lifetime in seconds. */
  expires_in?: number;
  /** The granted scopes, space-separated. */
  scope?: string;
  /** Present when the client registered the `refresh_token` grant. */
  refresh_token?: string;
  /** An OpenID Connect ID token, when the server issues one. */
  id_token?: string;
  /** The authorization server the tokens come from. */
  issuer?: string;
  [key: string]: unknown;
}

/**
 * What the SDK discovered (protected resource and authorization server metadata), kept between the two
 * legs of an authorization so the SDK can check the callback comes from the same authorization server.
 */
export interface HeadlessDiscoveryState {
  /** The authorization server the SDK chose. */
  authorizationServerUrl: string;
  /** Where the protected resource metadata was found. */
  resourceMetadataUrl?: string;
  [key: string]: unknown;
}

/** What {@link HeadlessOAuthClient.invalidateCredentials} may forget. */
export type CredentialScope = "all" | "client" | "tokens" | "verifier" | "discovery";

/**
 * A headless OAuth client provider for the official MCP TypeScript SDK clients: pass it as `authProvider`
 * to v2's `StreamableHTTPClientTransport` (`@modelcontextprotocol/client`) or v1's
 * (`@modelcontextprotocol/sdk/client/streamableHttp.js`). It is assignable to both majors'
 * `OAuthClientProvider` (structurally; this package depends on neither SDK) and keeps everything in memory.
 *
 * `redirectToAuthorization` "visits" the authorization URL with `fetch(…, { redirect: "manual" })`; an
 * authorization server that consents at once (like the emulator) answers 302 to the redirect URI with
 * `code`, `state` and `iss`. The provider checks `state` (the SDK does not) and keeps that callback URL
 * until {@link HeadlessOAuthClient.takeCallback}. Then call `transport.finishAuth(callback.searchParams)`
 * (v2, which also checks `iss`) or `transport.finishAuth(callback.searchParams.get("code"))` (v1), and
 * connect again with a **new** transport: see the package README for why, and a complete example.
 */
export class HeadlessOAuthClient {
  /** Where the authorization server redirects to. */
  readonly redirectUrl: string;
  /**
   * The client ID metadata document URL, when the client identifies itself with one. Absent (not
   * `undefined`) otherwise, so the class fits the SDKs' `OAuthClientProvider` also under
   * `exactOptionalPropertyTypes`.
   */
  declare readonly clientMetadataUrl?: string;
  /** How many times the SDK sent the user to the authorization endpoint. */
  authorizations = 0;
  /** The scope requested by the last authorization. */
  lastRequestedScope: string | undefined;
  private readonly options: HeadlessOAuthClientOptions;
  private client: HeadlessClientInformation | undefined;
  private tokenSet: HeadlessTokens | undefined;
  private verifier: string | undefined;
  private discovery: HeadlessDiscoveryState | undefined;
  private expectedState: string | undefined;
  private callback: URL | undefined;

  /**
   * Creates a provider for one MCP server and one session; keep one per test.
   * @throws TypeError when `clientMetadataUrl` is not an https URL with a path (the SDKs' rule).
   */
  constructor(options: HeadlessOAuthClientOptions = {}) {
    this.options = options;
    this.redirectUrl = options.redirectUrl ?? "http://127.0.0.1:1/oauth/callback";
    const url = options.clientMetadataUrl;
    if (url !== undefined && !isMetadataURL(url)) {
      throw new TypeError(
        `HeadlessOAuthClient: clientMetadataUrl must be an https URL with a path (the MCP SDKs refuse anything else), got "${url}"`,
      );
    }
    if (url !== undefined) this.clientMetadataUrl = url;
  }

  /** The client metadata the SDK registers with (dynamic registration). */
  get clientMetadata(): HeadlessClientMetadata {
    return {
      client_name: this.options.clientName ?? "descope-mcp headless client",
      redirect_uris: [this.redirectUrl],
      grant_types: [...(this.options.grantTypes ?? ["authorization_code"])],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(this.options.scope ? { scope: this.options.scope } : {}),
    };
  }

  /**
   * The document to serve at {@link HeadlessOAuthClient.clientMetadataUrl}: the client metadata with
   * `client_id` set to that URL (e.g. `host.publish(oauth.clientMetadataDocument)`).
   * @throws Error when the client has no `clientMetadataUrl`.
   */
  get clientMetadataDocument(): ClientIdMetadataDocument {
    if (this.clientMetadataUrl === undefined) throw new Error("HeadlessOAuthClient: no clientMetadataUrl was given");
    return { client_id: this.clientMetadataUrl, ...this.clientMetadata };
  }

  /** A fresh OAuth `state` for the next authorization; the redirect must carry it back. */
  state(): string {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }

  /** The client information saved by the SDK, or `undefined` before registration. */
  clientInformation(): HeadlessClientInformation | undefined {
    return this.client;
  }

  /** Called by the SDK after registering (or when it adopts the client ID metadata document URL). */
  saveClientInformation(info: HeadlessClientInformation): void {
    this.client = info;
    this.options.onStep?.(
      info.client_id === this.clientMetadataUrl
        ? `client ID metadata document ${info.client_id} (no registration)`
        : `registered client ${String(info.client_id)}`,
    );
  }

  /** The tokens saved by the SDK, or `undefined` before the first token response. */
  tokens(): HeadlessTokens | undefined {
    return this.tokenSet;
  }

  /** Called by the SDK with every token response. */
  saveTokens(tokens: HeadlessTokens): void {
    this.tokenSet = tokens;
    this.options.onStep?.(`received access token (scope "${tokens.scope ?? ""}")`);
  }

  /** The current access token (for assertions; treat it as a secret). */
  get accessToken(): string | undefined {
    return this.tokenSet?.access_token;
  }

  /** Called by the SDK with the PKCE verifier of the authorization it starts. */
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  /** The saved PKCE verifier. @throws Error when none was saved. */
  codeVerifier(): string {
    if (!this.verifier) throw new Error("No PKCE code verifier saved");
    return this.verifier;
  }

  /** Called by the SDK with what it discovered. */
  saveDiscoveryState(state: HeadlessDiscoveryState): void {
    this.discovery = state;
  }

  /** The saved discovery state, or `undefined`. */
  discoveryState(): HeadlessDiscoveryState | undefined {
    return this.discovery;
  }

  /** Forgets the named credentials (the SDK calls this when the server rejects them). */
  invalidateCredentials(scope: CredentialScope): void {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.tokenSet = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
    if (scope === "all" || scope === "discovery") this.discovery = undefined;
  }

  /**
   * Follows the authorization URL without a browser and keeps the redirect for
   * {@link HeadlessOAuthClient.takeCallback}.
   * @throws Error when the server does not redirect, the `state` does not match, or the redirect carries
   * an `error` or no `code`.
   */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizations++;
    this.lastRequestedScope = authorizationUrl.searchParams.get("scope") ?? undefined;
    this.options.onStep?.(
      `authorize (PKCE ${authorizationUrl.searchParams.get("code_challenge_method")}, scope "${this.lastRequestedScope ?? ""}")`,
    );
    const response = await fetch(authorizationUrl, { redirect: "manual" });
    const location = response.headers.get("location");
    if (response.status !== 302 || !location) {
      throw new Error(
        `The authorization endpoint answered ${response.status} instead of redirecting: ${await response.text()}`,
      );
    }
    const callback = new URL(location);
    if (callback.searchParams.get("state") !== this.expectedState)
      throw new Error("OAuth state mismatch on the redirect");
    const error = callback.searchParams.get("error");
    if (error)
      throw new Error(`Authorization failed: ${error} ${callback.searchParams.get("error_description") ?? ""}`.trim());
    if (!callback.searchParams.get("code")) throw new Error("The authorization redirect carries no code");
    this.callback = callback;
  }

  /** Whether an authorization redirect is waiting for `finishAuth`. */
  get hasPendingCallback(): boolean {
    return this.callback !== undefined;
  }

  /**
   * The redirect the authorization server answered with (`code` — always present —, `state`, `iss`);
   * consumed once.
   * @throws Error when none is pending.
   */
  takeCallback(): URL {
    const callback = this.callback;
    if (!callback) throw new Error("No authorization redirect is pending");
    this.callback = undefined;
    return callback;
  }
}

/** The SDKs' rule for `clientMetadataUrl`: https with a path other than `/`. */
function isMetadataURL(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.pathname !== "/";
  } catch {
    return false;
  }
}
