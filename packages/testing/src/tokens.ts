import { type CompactJWSHeaderParameters, CompactSign } from "jose";
import type { KeyStore, SigningKey } from "./keys.js";
import type { EmulatorUser, HostileTokens, MintOptions } from "./types.js";

/** What the token factory needs to know about the emulator (read at mint time, so changes apply). */
export interface TokenContext {
  keys: KeyStore;
  projectId: string;
  mcpServerId: string;
  baseURL(): string;
  issuerURL(): string;
  user(): EmulatorUser;
  audience(): string | string[];
  ttlSeconds(): number;
}

/** A valid-looking project ID that is never the emulator's own. */
export const OTHER_PROJECT_ID = "P2OtherPr0ject00000000000009";
export const EVIL_HOST = "https://api.evil.example";
export const WRONG_AUDIENCE = "https://wrong-audience.example/mcp";
/** Where the emulator serves the foreign key that the `jku` / `x5u` headers point to. */
export const FOREIGN_JWKS_PATH = "/__emulator/foreign/jwks.json";
export const FOREIGN_PEM_PATH = "/__emulator/foreign/key.pem";

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString("base64url");

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

/** Signs a compact JWS. `"none"` hand-assembles an unsigned token; a `Uint8Array` key is an HMAC secret. */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Uint8Array,
  key: CryptoKey | Uint8Array | "none",
): Promise<string> {
  if (key === "none") return `${b64url(JSON.stringify(header))}.${b64url(payload)}.`;
  const crit = Array.isArray(header.crit) ? header.crit.filter((c): c is string => typeof c === "string") : [];
  return new CompactSign(payload)
    .setProtectedHeader(header as CompactJWSHeaderParameters)
    .sign(key, crit.length > 0 ? { crit: Object.fromEntries(crit.map((c) => [c, true])) } : undefined);
}

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

export class TokenFactory {
  constructor(private readonly ctx: TokenContext) {}

  claims(overrides?: Record<string, unknown>, options: MintOptions = {}): Record<string, unknown> {
    const user = this.ctx.user();
    const now = nowSeconds();
    const base: Record<string, unknown> = {
      iss: this.ctx.issuerURL(),
      sub: user.userId,
      aud: this.ctx.audience(),
      azp: "emulator-client",
      scope: "openid",
      iat: now,
      exp: now + (options.expiresInSeconds ?? this.ctx.ttlSeconds()),
      email: user.email,
      roles: [...user.roles],
      permissions: [...user.permissions],
      tenants: structuredClone(user.tenants),
      loginIds: [...user.loginIds],
    };
    if (options.noExp) delete base.exp;
    return withOverrides(base, overrides);
  }

  header(signer: SigningKey, options: MintOptions = {}): Record<string, unknown> {
    return withOverrides({ alg: "RS256", typ: "JWT", kid: options.kid ?? signer.kid }, options.header);
  }

  /** Signs `payload` with `signer` under `header`, honouring a header `alg` of `none` or `HS*` (secret: the public PEM). */
  sign(header: Record<string, unknown>, payload: Uint8Array, signer: SigningKey): Promise<string> {
    const alg = header.alg;
    if (alg === "none") return signCompact(header, payload, "none");
    if (typeof alg === "string" && alg.startsWith("HS")) {
      return signCompact(header, payload, new TextEncoder().encode(signer.publicPem));
    }
    return signCompact(header, payload, signer.privateKey);
  }

  mint(claims?: Record<string, unknown>, options: MintOptions = {}): Promise<string> {
    const signer = this.ctx.keys.current;
    return this.sign(this.header(signer, options), encodeJson(this.claims(claims, options)), signer);
  }

  hostile(): HostileTokens {
    const ctx = this.ctx;
    const mint = (c?: Record<string, unknown>, o?: MintOptions) => this.mint(c, o);
    const signed = async (
      header: Record<string, unknown>,
      payload: Uint8Array,
      key: CryptoKey | Uint8Array | "none",
    ): Promise<string> => signCompact(header, payload, key);
    const current = () => ctx.keys.current;
    const foreign = () => ctx.keys.foreignKey();
    const otherProject = () => (ctx.projectId === OTHER_PROJECT_ID ? "P2OtherPr0ject00000000000008" : OTHER_PROJECT_ID);
    const pemSecret = () => new TextEncoder().encode(current().publicPem);
    const byForeign = async (
      c: Record<string, unknown> | undefined,
      extra: (k: SigningKey) => Record<string, unknown>,
    ) => {
      const k = await foreign();
      return signed({ alg: "RS256", typ: "JWT", kid: k.kid, ...extra(k) }, encodeJson(this.claims(c)), k.privateKey);
    };
    return {
      valid: (c) => mint(c),
      expired: (c) => mint({ iat: nowSeconds() - 7200, ...c }, { expiresInSeconds: -3600 }),
      notYetValid: (c) => mint({ nbf: nowSeconds() + 3600, ...c }),
      issuedInFuture: (c) => mint({ iat: nowSeconds() + 3600, ...c }, { expiresInSeconds: 3600 + ctx.ttlSeconds() }),
      missingExp: (c) => mint(c, { noExp: true }),
      wrongAudience: (c) => mint({ aud: WRONG_AUDIENCE, ...c }),
      wrongIssuer: (c) => mint({ iss: `${ctx.baseURL()}/some/other/issuer`, ...c }),
      otherProject: (c) => mint({ iss: `${ctx.baseURL()}/v1/apps/agentic/${otherProject()}/${ctx.mcpServerId}`, ...c }),
      otherHost: (c) => mint({ iss: `${EVIL_HOST}/v1/apps/agentic/${ctx.projectId}/${ctx.mcpServerId}`, ...c }),
      algNone: (c) => signed({ alg: "none", typ: "JWT", kid: current().kid }, encodeJson(this.claims(c)), "none"),
      hs256WithPublicKey: (c) =>
        signed({ alg: "HS256", typ: "JWT", kid: current().kid }, encodeJson(this.claims(c)), pemSecret()),
      hs512WithPublicKey: (c) =>
        signed({ alg: "HS512", typ: "JWT", kid: current().kid }, encodeJson(this.claims(c)), pemSecret()),
      foreignKey: (c) => byForeign(c, () => ({ kid: current().kid })),
      unknownKid: (c) => byForeign(c, (k) => ({ kid: `${k.kid}-unknown` })),
      missingKid: (c) => mint(c, { header: { kid: undefined } }),
      tampered: async (c) => {
        const [h, p, s] = (await mint(c)).split(".") as [string, string, string];
        const payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>;
        const scope = typeof payload.scope === "string" && payload.scope ? payload.scope : "openid";
        payload.scope = `${scope} admin`;
        return `${h}.${b64url(JSON.stringify(payload))}.${s}`;
      },
      strippedSignature: async (c) => {
        const [h, p] = (await mint(c)).split(".");
        return `${h}.${p}.`;
      },
      truncatedSignature: async (c) => {
        const [h, p, s] = (await mint(c)).split(".") as [string, string, string];
        return `${h}.${p}.${s.slice(0, -8)}`;
      },
      critHeader: (c) => mint(c, { header: { crit: ["x-unknown"], "x-unknown": true } }),
      jkuHeader: (c) => byForeign(c, () => ({ jku: `${ctx.baseURL()}${FOREIGN_JWKS_PATH}` })),
      x5uHeader: (c) => byForeign(c, () => ({ x5u: `${ctx.baseURL()}${FOREIGN_PEM_PATH}` })),
      jwkHeader: (c) => byForeign(c, (k) => ({ jwk: { kty: k.publicJwk.kty, n: k.publicJwk.n, e: k.publicJwk.e } })),
      oversized: (c) => mint({ junk: "x".repeat(17 * 1024), ...c }),
      nonJsonPayload: () =>
        signed(
          { alg: "RS256", typ: "JWT", kid: current().kid },
          new TextEncoder().encode("this is {not json"),
          current().privateKey,
        ),
      nonObjectPayload: () =>
        signed(
          { alg: "RS256", typ: "JWT", kid: current().kid },
          encodeJson(["not", "an", "object"]),
          current().privateKey,
        ),
    };
  }
}
