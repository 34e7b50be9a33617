import { createHash, timingSafeEqual } from "node:crypto";
import { looksLikeMetadataURL, resolveMetadataDocument } from "./client-metadata.js";
import { type EmulatorRequest, type EmulatorResponse, isAbsoluteURL, isObject, json, oauthError } from "./http.js";
import {
  type AuthorizationCode,
  CODE_TTL_MS,
  type EmulatorState,
  type RefreshGrant,
  type RegisteredClient,
  randomId,
  splitScopes,
} from "./state.js";

const AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"] as const;
const GRANT_TYPES = ["authorization_code", "refresh_token"];
const RESPONSE_TYPES = ["code"];
/** RFC 7636 §4.1 / §4.2: 43–128 unreserved characters. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

// ---------------------------------------------------------------- registration (RFC 7591)

export function register(state: EmulatorState, req: EmulatorRequest): EmulatorResponse {
  const body = req.body;
  const bad = (error: string, description: string) => oauthError(400, error, description, NO_STORE);
  if (!isObject(body)) return bad("invalid_client_metadata", "The request body must be a JSON object");
  const uris = body.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) {
    return bad("invalid_redirect_uri", "redirect_uris must be a non-empty array of absolute URLs");
  }
  if (!uris.every(isAbsoluteURL)) {
    return bad("invalid_redirect_uri", "Every redirect URI must be an absolute URL without a fragment");
  }
  const method = body.token_endpoint_auth_method ?? "none";
  if (typeof method !== "string" || !(AUTH_METHODS as readonly string[]).includes(method)) {
    return bad("invalid_client_metadata", `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(", ")}`);
  }
  const grantTypes = body.grant_types ?? [...GRANT_TYPES];
  if (!isStringArray(grantTypes) || !grantTypes.every((g) => GRANT_TYPES.includes(g))) {
    return bad("invalid_client_metadata", `grant_types may only contain ${GRANT_TYPES.join(", ")}`);
  }
  const responseTypes = body.response_types ?? [...RESPONSE_TYPES];
  if (!isStringArray(responseTypes) || !responseTypes.every((r) => RESPONSE_TYPES.includes(r))) {
    return bad("invalid_client_metadata", 'response_types may only contain "code"');
  }
  if (body.client_name !== undefined && typeof body.client_name !== "string") {
    return bad("invalid_client_metadata", "client_name must be a string");
  }
  if (body.scope !== undefined && typeof body.scope !== "string") {
    return bad("invalid_client_metadata", "scope must be a space-separated string");
  }
  const client: RegisteredClient = {
    clientId: randomId("emu_client_", 12),
    clientIdIssuedAt: Math.floor(Date.now() / 1000),
    redirectUris: [...uris],
    grantTypes: [...grantTypes],
    responseTypes: [...responseTypes],
    authMethod: method as RegisteredClient["authMethod"],
    ...(method !== "none" ? { clientSecret: randomId("emu_secret_", 24) } : {}),
    ...(typeof body.client_name === "string" ? { clientName: body.client_name } : {}),
    ...(typeof body.scope === "string" ? { scope: body.scope } : {}),
  };
  state.clients.set(client.clientId, client);
  return json(
    201,
    {
      client_id: client.clientId,
      client_id_issued_at: client.clientIdIssuedAt,
      ...(client.clientSecret ? { client_secret: client.clientSecret, client_secret_expires_at: 0 } : {}),
      redirect_uris: client.redirectUris,
      grant_types: client.grantTypes,
      response_types: client.responseTypes,
      token_endpoint_auth_method: client.authMethod,
      ...(client.clientName !== undefined ? { client_name: client.clientName } : {}),
      ...(client.scope !== undefined ? { scope: client.scope } : {}),
    },
    NO_STORE,
  );
}

// ---------------------------------------------------------------- client lookup

/**
 * A registered client, or one described by the client ID metadata document its `client_id` URL points
 * to (fetched and validated on every call). `undefined` when the ID is unknown.
 */
async function findClient(
  state: EmulatorState,
  clientId: string,
): Promise<{ client: RegisteredClient } | { problem: string } | undefined> {
  const registered = state.clients.get(clientId);
  if (registered) return { client: registered };
  if (state.metadataDocuments && looksLikeMetadataURL(clientId)) {
    return resolveMetadataDocument(clientId, state.metadataDocuments);
  }
  return undefined;
}

// ---------------------------------------------------------------- authorize

function redirectTo(target: string, params: Record<string, string | null | undefined>): EmulatorResponse {
  const url = new URL(target);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) url.searchParams.append(k, v);
  return { status: 302, headers: { location: url.toString(), ...NO_STORE } };
}

export async function authorize(state: EmulatorState, req: EmulatorRequest): Promise<EmulatorResponse> {
  const q = req.query;
  const bad = (error: string, description: string) => oauthError(400, error, description, NO_STORE);
  const clientId = q.get("client_id");
  if (!clientId) return bad("invalid_request", "client_id is required");
  const found = await findClient(state, clientId);
  if (!found) return bad("invalid_client", "Unknown client_id");
  // The redirect URI cannot be trusted before the client is known: never redirect these errors.
  if ("problem" in found) return bad("invalid_client", found.problem);
  const { client } = found;

  const given = q.get("redirect_uri");
  let redirectUri: string;
  if (given === null) {
    if (client.redirectUris.length !== 1) return bad("invalid_request", "redirect_uri is required");
    redirectUri = client.redirectUris[0] as string;
  } else if (!client.redirectUris.includes(given)) {
    return bad(
      "invalid_request",
      client.metadataDocument
        ? "redirect_uri is not one of the redirect_uris in the client ID metadata document"
        : "redirect_uri does not match any registered redirect URI",
    );
  } else {
    redirectUri = given;
  }

  const stateParam = q.get("state");
  const iss = state.urls.issuerURL;
  const fail = (error: string, error_description: string) =>
    redirectTo(redirectUri, { error, error_description, state: stateParam, iss });

  const responseType = q.get("response_type");
  if (!responseType) return fail("invalid_request", "response_type is required");
  if (responseType !== "code") return fail("unsupported_response_type", 'Only response_type "code" is supported');
  if (!client.responseTypes.includes("code"))
    return fail("unauthorized_client", "Client may not use response_type code");
  const challenge = q.get("code_challenge");
  if (!challenge) return fail("invalid_request", "code_challenge is required (PKCE)");
  if (q.get("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (!PKCE_VALUE.test(challenge)) return fail("invalid_request", "code_challenge is malformed");
  const resources = q.getAll("resource");
  if (resources.length > 1) return fail("invalid_target", "Only one resource is supported");
  const resource = resources[0];
  if (resource !== undefined && !isAbsoluteURL(resource)) {
    return fail("invalid_target", "resource must be an absolute URL without a fragment");
  }

  const requested = splitScopes(q.get("scope"));
  const grantable = state.grantableScopes;
  const scopes = grantable ? requested.filter((s) => grantable.includes(s)) : requested;
  const code = randomId("emu_code_");
  const record: AuthorizationCode = {
    clientId,
    redirectUri,
    redirectUriGiven: given !== null,
    scopes,
    ...(resource !== undefined ? { resource } : {}),
    user: structuredClone(state.user),
    codeChallenge: challenge,
    expiresAt: Date.now() + CODE_TTL_MS,
    used: false,
  };
  state.codes.set(code, record);
  return redirectTo(redirectUri, { code, state: stateParam, iss });
}

// ---------------------------------------------------------------- token

type Authenticated = { client: RegisteredClient } | { error: EmulatorResponse };

async function authenticateClient(
  state: EmulatorState,
  req: EmulatorRequest,
  form: URLSearchParams,
): Promise<Authenticated> {
  const err = (status: number, error: string, d: string, extra?: Record<string, string>) => ({
    error: oauthError(status, error, d, { ...NO_STORE, ...extra }),
  });
  let clientId = form.get("client_id");
  let secret = form.get("client_secret");
  const auth = req.headers.authorization;
  const basic = auth !== undefined && /^basic /i.test(auth);
  if (basic) {
    if (secret !== null) return err(400, "invalid_request", "Use only one client authentication method");
    const decoded = Buffer.from(auth.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0)
      return err(401, "invalid_client", "Malformed Basic credentials", {
        "www-authenticate": 'Basic realm="emulator"',
      });
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    const formDecode = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        return s;
      }
    };
    const id = formDecode(decoded.slice(0, colon));
    if (clientId !== null && clientId !== id)
      return err(400, "invalid_request", "client_id does not match the Basic credentials");
    clientId = id;
    secret = formDecode(decoded.slice(colon + 1));
  }
  const challenge = basic ? { "www-authenticate": 'Basic realm="emulator"' } : undefined;
  if (!clientId) return err(401, "invalid_client", "Client authentication failed: no client_id", challenge);
  const found = await findClient(state, clientId);
  if (!found) return err(401, "invalid_client", "Client authentication failed: unknown client", challenge);
  if ("problem" in found)
    return err(401, "invalid_client", `Client authentication failed: ${found.problem}`, challenge);
  const { client } = found;
  if (client.metadataDocument && (secret !== null || basic)) {
    return err(
      401,
      "invalid_client",
      "Client authentication failed: a client identified by a client ID metadata document has no secret",
      challenge,
    );
  }
  if (client.clientSecret !== undefined) {
    const ok =
      secret !== null &&
      secret.length === client.clientSecret.length &&
      timingSafeEqual(Buffer.from(secret), Buffer.from(client.clientSecret));
    if (!ok) return err(401, "invalid_client", "Client authentication failed: bad client_secret", challenge);
  }
  return { client };
}

function issueTokens(
  state: EmulatorState,
  client: RegisteredClient,
  grant: Omit<RefreshGrant, "clientId" | "revoked">,
  accessScopes: string[],
): Promise<EmulatorResponse> {
  const u = grant.user;
  // Refresh tokens only for clients that registered the refresh_token grant (RFC 7591 §2).
  const refreshToken = client.grantTypes.includes("refresh_token") ? randomId("emu_rt_", 32) : undefined;
  if (refreshToken) state.refreshTokens.set(refreshToken, { ...grant, clientId: client.clientId, revoked: false });
  const scope = accessScopes.join(" ");
  return state.tokens
    .mint({
      sub: u.userId,
      aud: grant.resource ?? state.audience ?? state.projectId,
      azp: client.clientId,
      scope,
      email: u.email,
      roles: [...u.roles],
      permissions: [...u.permissions],
      tenants: structuredClone(u.tenants),
      loginIds: [...u.loginIds],
    })
    .then((accessToken) =>
      json(
        200,
        {
          access_token: accessToken,
          token_type: "Bearer",
          expires_in: state.ttlSeconds,
          ...(refreshToken ? { refresh_token: refreshToken } : {}),
          scope,
        },
        NO_STORE,
      ),
    );
}

export async function token(state: EmulatorState, req: EmulatorRequest): Promise<EmulatorResponse> {
  const fail = (error: string, d: string, status = 400) => oauthError(status, error, d, NO_STORE);
  if (req.contentType !== "application/x-www-form-urlencoded") {
    return fail("invalid_request", "Content-Type must be application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(req.rawBody);
  for (const key of new Set(form.keys())) {
    if (key !== "resource" && form.getAll(key).length > 1)
      return fail("invalid_request", `Parameter ${key} is repeated`);
  }
  const authn = await authenticateClient(state, req, form);
  if ("error" in authn) return authn.error;
  const { client } = authn;
  const grantType = form.get("grant_type");
  if (!grantType) return fail("invalid_request", "grant_type is required");
  if (!GRANT_TYPES.includes(grantType)) return fail("unsupported_grant_type", `Unsupported grant_type ${grantType}`);
  if (!client.grantTypes.includes(grantType)) return fail("unauthorized_client", `Client may not use ${grantType}`);

  const resources = form.getAll("resource");
  if (resources.length > 1) return fail("invalid_target", "Only one resource is supported");
  const resource = resources[0];
  if (resource !== undefined && !isAbsoluteURL(resource)) {
    return fail("invalid_target", "resource must be an absolute URL without a fragment");
  }

  if (grantType === "authorization_code") {
    const code = form.get("code");
    if (!code) return fail("invalid_request", "code is required");
    const rec = state.codes.get(code);
    if (!rec) return fail("invalid_grant", "Unknown authorization code");
    if (rec.used) {
      for (const g of state.refreshTokens.values()) if (g.family === code) g.revoked = true;
      return fail("invalid_grant", "Authorization code was already used");
    }
    rec.used = true;
    if (Date.now() > rec.expiresAt) return fail("invalid_grant", "Authorization code expired");
    if (rec.clientId !== client.clientId)
      return fail("invalid_grant", "Authorization code was issued to another client");
    const redirectUri = form.get("redirect_uri");
    if (redirectUri === null && rec.redirectUriGiven) return fail("invalid_request", "redirect_uri is required");
    if (redirectUri !== null && redirectUri !== rec.redirectUri) return fail("invalid_grant", "redirect_uri mismatch");
    const verifier = form.get("code_verifier");
    if (!verifier) return fail("invalid_request", "code_verifier is required");
    const computed = createHash("sha256").update(verifier).digest("base64url");
    if (!PKCE_VALUE.test(verifier) || computed !== rec.codeChallenge) {
      return fail("invalid_grant", "PKCE verification failed");
    }
    if (resource !== undefined && rec.resource !== undefined && resource !== rec.resource) {
      return fail("invalid_target", "resource does not match the authorization request");
    }
    const effective = resource ?? rec.resource;
    return issueTokens(
      state,
      client,
      { scopes: rec.scopes, ...(effective !== undefined ? { resource: effective } : {}), user: rec.user, family: code },
      rec.scopes,
    );
  }

  // refresh_token
  const refreshToken = form.get("refresh_token");
  if (!refreshToken) return fail("invalid_request", "refresh_token is required");
  const grant = state.refreshTokens.get(refreshToken);
  if (!grant) return fail("invalid_grant", "Unknown refresh token");
  if (grant.revoked) {
    for (const g of state.refreshTokens.values()) if (g.family === grant.family) g.revoked = true;
    return fail("invalid_grant", "Refresh token was revoked or already used");
  }
  if (grant.clientId !== client.clientId) return fail("invalid_grant", "Refresh token was issued to another client");
  if (resource !== undefined && resource !== grant.resource) {
    return fail("invalid_target", "resource does not match the original grant");
  }
  let accessScopes = grant.scopes;
  const scopeParam = form.get("scope");
  if (scopeParam !== null) {
    const requested = splitScopes(scopeParam);
    const extra = requested.filter((s) => !grant.scopes.includes(s));
    if (requested.length === 0 || extra.length > 0) {
      return fail("invalid_scope", `Scope exceeds the original grant${extra.length ? `: ${extra.join(" ")}` : ""}`);
    }
    accessScopes = requested;
  }
  grant.revoked = true;
  return issueTokens(
    state,
    client,
    {
      scopes: grant.scopes,
      ...(grant.resource !== undefined ? { resource: grant.resource } : {}),
      user: grant.user,
      family: grant.family,
    },
    accessScopes,
  );
}
