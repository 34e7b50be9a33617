/**
 * A headless OAuth client provider for the MCP TypeScript SDK clients (v1 `@modelcontextprotocol/sdk`
 * and v2 `@modelcontextprotocol/client`). It implements the SDK's `OAuthClientProvider` shape
 * structurally, so this package does not depend on either SDK.
 *
 * `redirectToAuthorization` "visits" the authorization URL with `fetch(…, { redirect: "manual" })`; an
 * authorization server that consents at once (like the emulator) answers 302 to the redirect URI with
 * `code`, `state` and `iss`. The provider checks `state` (the SDK does not) and keeps the callback
 * URL; the test then calls `transport.finishAuth(provider.takeCallback().searchParams)` (v2) or
 * `transport.finishAuth(provider.takeCallback().searchParams.get("code"))` (v1).
 */
export interface HeadlessOAuthClientOptions {
  /** Where the authorization server redirects to; nothing needs to listen there. */
  redirectUrl?: string;
  clientName?: string;
  /** Scope to register with (the SDK chooses the authorization scope itself). */
  scope?: string;
  /** Registered grant types; add `refresh_token` to be issued refresh tokens. Default `["authorization_code"]`. */
  grantTypes?: string[];
  /** Called with a short line for every step (for demos and debugging). Never receives tokens. */
  onStep?: (line: string) => void;
}

interface TokenSet {
  access_token: string;
  token_type: string;
  scope?: string;
  refresh_token?: string;
  expires_in?: number;
}

export class HeadlessOAuthClient {
  readonly redirectUrl: string;
  /** How many times the SDK sent the user to the authorization endpoint. */
  authorizations = 0;
  /** The scope requested by the last authorization. */
  lastRequestedScope: string | undefined;
  private readonly options: HeadlessOAuthClientOptions;
  private client: Record<string, unknown> | undefined;
  private tokenSet: TokenSet | undefined;
  private verifier: string | undefined;
  private discovery: unknown;
  private expectedState: string | undefined;
  private callback: URL | undefined;

  constructor(options: HeadlessOAuthClientOptions = {}) {
    this.options = options;
    this.redirectUrl = options.redirectUrl ?? "http://127.0.0.1:1/oauth/callback";
  }

  get clientMetadata(): Record<string, unknown> {
    const metadata: Record<string, unknown> = {
      client_name: this.options.clientName ?? "descope-mcp headless client",
      redirect_uris: [this.redirectUrl],
      grant_types: this.options.grantTypes ?? ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
    if (this.options.scope) metadata.scope = this.options.scope;
    return metadata;
  }

  state(): string {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info: Record<string, unknown>): void {
    this.client = info;
    this.options.onStep?.(`registered client ${String(info.client_id)}`);
  }

  tokens() {
    return this.tokenSet;
  }

  saveTokens(tokens: TokenSet): void {
    this.tokenSet = tokens;
    this.options.onStep?.(`received access token (scope "${tokens.scope ?? ""}")`);
  }

  /** The current access token (for assertions; treat it as a secret). */
  get accessToken(): string | undefined {
    return this.tokenSet?.access_token;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error("No PKCE code verifier saved");
    return this.verifier;
  }

  saveDiscoveryState(state: unknown): void {
    this.discovery = state;
  }

  discoveryState() {
    return this.discovery as never;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.client = undefined;
    if (scope === "all" || scope === "tokens") this.tokenSet = undefined;
    if (scope === "all" || scope === "verifier") this.verifier = undefined;
    if (scope === "all" || scope === "discovery") this.discovery = undefined;
  }

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
    this.callback = callback;
  }

  /** Whether an authorization redirect is waiting for `finishAuth`. */
  get hasPendingCallback(): boolean {
    return this.callback !== undefined;
  }

  /** The redirect the authorization server answered with (`code`, `state`, `iss`); consumed once. */
  takeCallback(): URL {
    const callback = this.callback;
    if (!callback) throw new Error("No authorization redirect is pending");
    this.callback = undefined;
    return callback;
  }
}
