import { InsufficientScopeError } from "./errors.js";

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** What holds granted scopes: a session (or any object with `scopes`), or the list of scopes itself. */
export type ScopeHolder =
  | {
      /** The granted scopes. */
      readonly scopes: readonly string[];
    }
  | readonly string[];

function scopesOf(holder: ScopeHolder): readonly string[] {
  return Array.isArray(holder) ? holder : (holder as { scopes: readonly string[] }).scopes;
}

/**
 * Whether a granted scope covers a required one. Equal scopes cover each other; a granted scope
 * ending in `:*` covers every scope below its prefix (`a:*` covers `a:b` and `a:b:c`, not `a`).
 * A bare `*` covers nothing but itself.
 */
export function scopeCovers(granted: string, required: string): boolean {
  if (granted === required) return true;
  if (granted.length > 2 && granted.endsWith(":*")) {
    const prefix = granted.slice(0, -1); // keeps the trailing ':'
    return required.length > prefix.length && required.startsWith(prefix);
  }
  return false;
}

/** The required scopes that none of the granted scopes covers, in the order given, without duplicates. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  const missing: string[] = [];
  if (required.length === 0) return missing;
  // A set only pays off for long lists; a token carries a handful of scopes.
  const many = granted.length > 16 ? new Set(granted) : undefined;
  let wildcards: string[] | undefined;
  for (const r of required) {
    if ((many ? many.has(r) : granted.includes(r)) || missing.includes(r)) continue;
    wildcards ??= granted.filter((g) => g.length > 2 && g.endsWith(":*"));
    if (wildcards.some((w) => scopeCovers(w, r))) continue;
    missing.push(r);
  }
  return missing;
}

/** True when the session (or scope list) covers every required scope. */
export function hasScopes(holder: ScopeHolder, required: readonly string[] | string): boolean {
  const list = typeof required === "string" ? [required] : required;
  return missingScopes(scopesOf(holder), list).length === 0;
}

/** Throws `InsufficientScopeError` unless the session (or scope list) covers every required scope. */
export function requireScopes(holder: ScopeHolder, required: readonly string[] | string): void {
  const list = typeof required === "string" ? [required] : required;
  const granted = scopesOf(holder);
  const missing = missingScopes(granted, list);
  if (missing.length > 0) {
    throw new InsufficientScopeError({
      requiredScopes: [...new Set(list)],
      missingScopes: missing,
      tokenScopes: granted,
    });
  }
}

/** Parses space-separated scopes (`scope`, `scp`) and scope arrays (`scopes`, `scp`) from claims, deduplicated. */
export function scopesFromClaims(claims: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string") {
      // One pass, keeping only the words: splitting on every space would make an array as long as
      // the runs of spaces (and a large one costs V8 far more than its length).
      let start = -1;
      for (let i = 0; i <= value.length; i++) {
        if (i === value.length || value.charCodeAt(i) === 0x20) {
          if (start >= 0) out.add(value.slice(start, i));
          start = -1;
        } else if (start < 0) start = i;
      }
    } else if (Array.isArray(value)) {
      for (const s of value) if (typeof s === "string" && s && !s.includes(" ")) out.add(s);
    }
  };
  add(claims.scope);
  add(claims.scp);
  add(claims.scopes);
  return [...out];
}

/** A JSON-RPC request naming a tool, as found in an MCP request body. */
export interface ToolCall {
  /** The tool's name (`params.name`). */
  name: string;
}

/**
 * JSON text as HTTP parsers read it: a leading UTF-8 byte order mark is dropped (body parsers and
 * `Request.json()` strip it, so a BOM must not hide a call from the policy that the transport then runs).
 */
function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/** The body as a JSON value: text and raw bytes (`Uint8Array`, `Buffer`, `ArrayBuffer`) are parsed. */
function jsonBody(body: unknown): unknown {
  if (typeof body === "string") return parseJsonText(body);
  if (body instanceof ArrayBuffer) return parseJsonText(new TextDecoder().decode(body));
  if (ArrayBuffer.isView(body)) {
    return parseJsonText(new TextDecoder().decode(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)));
  }
  return body;
}

/**
 * Every `tools/call` in a JSON-RPC body (a single request or a batch), given parsed, as text or as
 * raw bytes. Non-JSON-RPC input yields nothing.
 */
export function toolCallsIn(body: unknown): ToolCall[] {
  let parsed: unknown;
  try {
    parsed = jsonBody(body);
  } catch {
    return [];
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  const calls: ToolCall[] = [];
  for (const message of messages) {
    if (message === null || typeof message !== "object") continue;
    const m = message as { method?: unknown; params?: unknown };
    if (m.method !== "tools/call") continue;
    const params = m.params as { name?: unknown } | null | undefined;
    if (params && typeof params === "object" && typeof params.name === "string") calls.push({ name: params.name });
  }
  return calls;
}

/** Whether a record has an own key (without listing them all, as `Object.keys` would on every request). */
function hasEntries(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/**
 * The scopes an MCP request needs: the server-wide ones plus, for every `tools/call` in the body,
 * that tool's scopes (a tool without an entry needs none of its own). Tools are looked for only
 * when `policy.toolScopes` has entries.
 */
export function scopesForRequest(
  body: unknown,
  policy: { requiredScopes: readonly string[]; toolScopes: Readonly<Record<string, readonly string[]>> },
): {
  /** Every scope the request needs, deduplicated: server-wide first, then per tool. */
  scopes: string[];
  /** The names of the tools the body calls, in order (repeats kept). */
  tools: string[];
} {
  const scopes = new Set(policy.requiredScopes);
  const tools: string[] = [];
  if (body !== undefined && hasEntries(policy.toolScopes)) {
    for (const call of toolCallsIn(body)) {
      tools.push(call.name);
      const needed = Object.hasOwn(policy.toolScopes, call.name) ? policy.toolScopes[call.name] : undefined;
      if (needed) for (const s of needed) scopes.add(s);
    }
  }
  return { scopes: [...scopes], tools };
}
