import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { isAbsoluteURL, isObject } from "./http.js";
import type { RegisteredClient } from "./state.js";

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; the registration path the
// MCP specification recommends, DCR being deprecated there): the client_id is an https URL, and the
// authorization server fetches the JSON document behind it to learn the client's metadata.

/** How the emulator fetches client ID metadata documents (resolved from `EmulatorOptions`). */
export interface MetadataDocumentPolicy {
  /** Trusted CA certificates: Node's bundled roots plus any the options added. */
  ca: string[];
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_METADATA_TIMEOUT_MS = 5000;
/** The draft suggests authorization servers cap the document at 5 KB. */
export const DEFAULT_METADATA_MAX_BYTES = 5120;

/** Why a client ID metadata document could not be used: a description for `error_description`. */
export type MetadataDocumentResult = { client: RegisteredClient } | { problem: string };

const GRANT_TYPES = ["authorization_code", "refresh_token"];
/** Shared-secret methods cannot work with a document anyone can read (draft §4). */
const SHARED_SECRET_METHODS = ["client_secret_post", "client_secret_basic", "client_secret_jwt"];

/** Whether a `client_id` is meant as a client ID metadata document URL (rather than a registered ID). */
export const looksLikeMetadataURL = (clientId: string): boolean => /^https?:\/\//i.test(clientId);

/**
 * Checks the client identifier URL itself: https, a host, a path other than `/`, no fragment, no user
 * information, no `.`/`..` segments. Returns a problem description, or `undefined` when it is usable.
 */
export function checkMetadataURL(clientId: string): string | undefined {
  if (!/^https:\/\//.test(clientId)) return "A client ID metadata document URL must use the https scheme";
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "The client_id is not a valid URL";
  }
  if (clientId.includes("#")) return "A client ID metadata document URL must not contain a fragment";
  if (url.username !== "" || url.password !== "")
    return "A client ID metadata document URL must not contain user information";
  // The raw path, before URL parsing removes dot segments.
  const rawPath = /^https:\/\/[^/?#]*([^?#]*)/.exec(clientId)?.[1] ?? "";
  if (rawPath === "" || rawPath === "/") return "A client ID metadata document URL must have a path";
  if (rawPath.split("/").some((s) => s === "." || s === ".." || /^(%2e|\.){1,2}$/i.test(s))) {
    return "A client ID metadata document URL must not contain . or .. path segments";
  }
  return undefined;
}

interface Fetched {
  status: number;
  contentType: string;
  body: Buffer;
}

function fetchDocument(url: string, policy: MetadataDocumentPolicy): Promise<Fetched | { problem: string }> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (value: Fetched | { problem: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(value);
    };
    const req = httpsRequest(url, {
      method: "GET",
      headers: { accept: "application/json" },
      ca: policy.ca,
      agent: false,
    });
    timer = setTimeout(() => {
      done({ problem: `Fetching the client ID metadata document timed out after ${policy.timeoutMs} ms` });
      req.destroy();
    }, policy.timeoutMs);
    req.on("error", (error: NodeJS.ErrnoException) => {
      done({ problem: `Could not fetch the client ID metadata document: ${error.code ?? error.message}` });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) {
          done({ problem: `The client ID metadata document is larger than ${policy.maxBytes} bytes` });
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on("error", () => done({ problem: "The client ID metadata document response was cut short" }));
      res.on("aborted", () => done({ problem: "The client ID metadata document response was cut short" }));
      res.on("end", () =>
        done({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.end();
  });
}

/** `application/json` or `application/<something>+json`, parameters allowed (draft §5). */
const isJsonType = (contentType: string): boolean => {
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
};

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** Validates a fetched document against the rules of the draft and what the emulator supports. */
export function clientFromDocument(clientId: string, document: unknown): MetadataDocumentResult {
  const bad = (problem: string) => ({ problem: `Invalid client ID metadata document: ${problem}` });
  if (!isObject(document)) return bad("not a JSON object");
  if (document.client_id !== clientId) return bad("its client_id is not the URL it was fetched from");
  if ("client_secret" in document || "client_secret_expires_at" in document) {
    return bad("it must not contain a client_secret");
  }
  const method = document.token_endpoint_auth_method ?? "none";
  if (typeof method !== "string") return bad("token_endpoint_auth_method must be a string");
  if (SHARED_SECRET_METHODS.includes(method)) return bad(`token_endpoint_auth_method ${method} needs a shared secret`);
  if (method !== "none") return bad(`token_endpoint_auth_method ${method} is not supported (use none)`);
  const uris = document.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) return bad("redirect_uris must be a non-empty array");
  if (!uris.every(isAbsoluteURL)) return bad("every redirect URI must be an absolute URL without a fragment");
  const grantTypes = document.grant_types ?? ["authorization_code"];
  if (!isStringArray(grantTypes) || !grantTypes.every((g) => GRANT_TYPES.includes(g))) {
    return bad(`grant_types may only contain ${GRANT_TYPES.join(", ")}`);
  }
  const responseTypes = document.response_types ?? ["code"];
  if (!isStringArray(responseTypes) || !responseTypes.every((r) => r === "code")) {
    return bad('response_types may only contain "code"');
  }
  if (document.client_name !== undefined && typeof document.client_name !== "string") {
    return bad("client_name must be a string");
  }
  if (document.scope !== undefined && typeof document.scope !== "string") {
    return bad("scope must be a space-separated string");
  }
  return {
    client: {
      clientId,
      clientIdIssuedAt: 0,
      redirectUris: [...uris],
      grantTypes: [...grantTypes],
      responseTypes: [...responseTypes],
      authMethod: "none",
      metadataDocument: true,
      ...(typeof document.client_name === "string" ? { clientName: document.client_name } : {}),
      ...(typeof document.scope === "string" ? { scope: document.scope } : {}),
    },
  };
}

/**
 * Resolves a client ID metadata document URL to a client: checks the URL, fetches it (no redirects
 * followed, 200 only, a JSON content type, at most `maxBytes`, within `timeoutMs`) and validates the
 * document. Nothing is cached: every authorize and token request fetches the document again.
 */
export async function resolveMetadataDocument(
  clientId: string,
  policy: MetadataDocumentPolicy,
): Promise<MetadataDocumentResult> {
  const urlProblem = checkMetadataURL(clientId);
  if (urlProblem) return { problem: urlProblem };
  const fetched = await fetchDocument(clientId, policy);
  if ("problem" in fetched) return fetched;
  if (fetched.status >= 300 && fetched.status < 400) {
    return { problem: `The client ID metadata document URL answered ${fetched.status}; redirects are not followed` };
  }
  if (fetched.status !== 200) return { problem: `The client ID metadata document URL answered ${fetched.status}` };
  if (!isJsonType(fetched.contentType)) {
    return { problem: "The client ID metadata document must be served as application/json" };
  }
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fetched.body));
  } catch {
    return { problem: "The client ID metadata document is not valid JSON" };
  }
  return clientFromDocument(clientId, document);
}

/** Node's bundled root certificates plus the extra ones, for `MetadataDocumentPolicy.ca`. */
export const trustedCertificates = (extra: string | readonly string[] | undefined): string[] => [
  ...rootCertificates,
  ...(extra === undefined ? [] : typeof extra === "string" ? [extra] : extra),
];
