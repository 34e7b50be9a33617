import { ConfigurationError } from "./errors.js";

/** Everything derived from the Descope configuration the user gave. */
export interface DescopeIssuer {
  /** The authorization server's issuer identifier (what PRM lists in `authorization_servers`). */
  issuer: string;
  /** The Descope project ID (`P…`), from the issuer's path or the `projectId` option. */
  projectId: string;
  /** The MCP server ID (`M…`) when the issuer is an agentic MCP-server issuer. */
  mcpServerId: string | undefined;
  /** Region code carried by a 32-character project ID (`euc1`, `aps2`, …). */
  region: string | undefined;
  /** Descope API base URL, no trailing slash. */
  apiBaseURL: string;
  /** The OpenID discovery document URL. */
  discoveryURL: string;
  /** The JWKS URL used when the discovery document cannot be had. */
  fallbackJwksURL: string;
  /** Origins whose issuers belong to the project (the issuer's and the API base's). */
  origins: readonly string[];
}

const PROJECT_ID = /^P[A-Za-z0-9]{27}(?:[A-Za-z0-9]{4})?$/;
const US_API_BASE = "https://api.descope.com";
const WELL_KNOWN_SUFFIXES = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"];

/** Whether `value` is shaped like a Descope project ID: `P` and 27 or 31 letters and digits. */
export function isProjectId(value: string): boolean {
  return PROJECT_ID.test(value);
}

/** `Peuc1…` (32 chars) → `euc1`; 28-char IDs carry no region. */
export function regionOf(projectId: string): string | undefined {
  return projectId.length === 32 ? projectId.slice(1, -27) : undefined;
}

/**
 * The Descope API base URL of a region: `https://api.<region>.descope.com`, or
 * `https://api.descope.com` without one.
 */
export function apiBaseForRegion(region: string | undefined): string {
  return region ? `https://api.${region}.descope.com` : US_API_BASE;
}

function parseAbsoluteURL(value: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`${field} must be an absolute URL, got ${JSON.stringify(value)}`, field);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigurationError(`${field} must use https (or http for local testing), got ${url.protocol}`, field);
  }
  if (url.username || url.password) throw new ConfigurationError(`${field} must not contain credentials`, field);
  if (url.search || url.hash) throw new ConfigurationError(`${field} must not contain a query or fragment`, field);
  return url;
}

function trimSlashes(path: string): string {
  return path.replace(/\/+$/, "");
}

/**
 * The project ID in an issuer path: the segment after `agentic`, else after `apps`, else the first
 * segment shaped like a project ID. Never simply the first segment (that would be `v1`).
 */
export function projectIdFromPath(pathname: string): {
  /** The project ID found, if any. */
  projectId?: string;
  /** The segment after the project ID in an `agentic` path: the MCP server ID (`M…`). */
  mcpServerId?: string;
} {
  const segments = pathname.split("/").filter(Boolean);
  const agentic = segments.indexOf("agentic");
  if (agentic >= 0 && segments[agentic + 1] && isProjectId(segments[agentic + 1] as string)) {
    return { projectId: segments[agentic + 1], mcpServerId: segments[agentic + 2] };
  }
  const apps = segments.indexOf("apps");
  if (apps >= 0 && segments[apps + 1] && isProjectId(segments[apps + 1] as string)) {
    return { projectId: segments[apps + 1] };
  }
  const found = segments.find(isProjectId);
  return found ? { projectId: found } : {};
}

/** What {@link resolveIssuer} needs: the Descope fields of the options (one of the first three is required). */
export interface IssuerInput {
  /** The issuer URL, as {@link DescopeMcpAuthOptions.issuerURL}. */
  issuerURL?: string | undefined;
  /** The discovery URL, as {@link DescopeMcpAuthOptions.wellKnownURL}. */
  wellKnownURL?: string | undefined;
  /** The project ID, as {@link DescopeMcpAuthOptions.projectId}. */
  projectId?: string | undefined;
  /** The Descope API base URL, as {@link DescopeMcpAuthOptions.descopeBaseURL}. */
  descopeBaseURL?: string | undefined;
}

/**
 * Turns an issuer URL, a well-known URL or a project ID (+ base URL) into every URL the library
 * needs. Throws {@link ConfigurationError} (naming the field) for a missing, conflicting or malformed input.
 */
export function resolveIssuer(input: IssuerInput): DescopeIssuer {
  const given = (["issuerURL", "wellKnownURL"] as const).filter((k) => input[k] !== undefined);
  if (given.length > 1) {
    throw new ConfigurationError("Give either issuerURL or wellKnownURL, not both", "wellKnownURL");
  }
  if (given.length === 0 && input.projectId === undefined) {
    throw new ConfigurationError("One of issuerURL, wellKnownURL or projectId is required", "issuerURL");
  }
  if (input.projectId !== undefined && !isProjectId(input.projectId)) {
    throw new ConfigurationError(
      `projectId must look like a Descope project ID ('P' followed by 27 or 31 letters and digits), got ${JSON.stringify(input.projectId)}`,
      "projectId",
    );
  }
  const base = input.descopeBaseURL ? parseAbsoluteURL(input.descopeBaseURL, "descopeBaseURL") : undefined;

  let issuer: string;
  let discoveryURL: string;
  let projectId: string | undefined;
  let mcpServerId: string | undefined;

  if (input.wellKnownURL !== undefined || input.issuerURL !== undefined) {
    const field = input.wellKnownURL !== undefined ? "wellKnownURL" : "issuerURL";
    const url = parseAbsoluteURL((input.wellKnownURL ?? input.issuerURL) as string, field);
    let path = trimSlashes(url.pathname);
    let wellKnown = false;
    for (const suffix of WELL_KNOWN_SUFFIXES) {
      if (path.endsWith(suffix)) {
        path = path.slice(0, -suffix.length);
        wellKnown = true;
      } else if (path.startsWith(`${suffix}/`)) {
        // RFC 8414 form: /.well-known/oauth-authorization-server/<issuer path>
        path = path.slice(suffix.length);
        wellKnown = true;
      }
      if (wellKnown) break;
    }
    if (field === "wellKnownURL" && !wellKnown) {
      throw new ConfigurationError(
        "wellKnownURL must be a discovery URL ending in /.well-known/openid-configuration",
        "wellKnownURL",
      );
    }
    issuer = `${url.origin}${path}`;
    discoveryURL = wellKnown ? url.href.replace(/\/+$/, "") : `${issuer}/.well-known/openid-configuration`;
    ({ projectId, mcpServerId } = projectIdFromPath(path));
    if (!projectId) {
      if (input.projectId) projectId = input.projectId;
      else {
        throw new ConfigurationError(
          `${field} does not contain a Descope project ID; expected e.g. https://api.descope.com/v1/apps/agentic/P…/M…`,
          field,
        );
      }
    } else if (input.projectId && input.projectId !== projectId) {
      throw new ConfigurationError(
        `projectId ${input.projectId} does not match the ${field} (${projectId})`,
        "projectId",
      );
    }
  } else {
    projectId = input.projectId as string;
    const apiBase = base ? trimSlashes(base.href) : apiBaseForRegion(regionOf(projectId));
    issuer = `${apiBase}/v1/apps/${projectId}`;
    discoveryURL = `${issuer}/.well-known/openid-configuration`;
  }

  const region = regionOf(projectId);
  const issuerOrigin = new URL(issuer).origin;
  const apiBaseURL = base ? trimSlashes(base.href) : issuerOrigin;
  const origins = [...new Set([issuerOrigin, new URL(apiBaseURL).origin])];
  return {
    issuer,
    projectId,
    mcpServerId,
    region,
    apiBaseURL,
    discoveryURL,
    fallbackJwksURL: `${apiBaseURL}/${projectId}/.well-known/jwks.json`,
    origins,
  };
}

/**
 * A predicate telling whether `iss` is one of the issuers Descope uses for this project on an
 * accepted origin: `<origin>/v1/apps/agentic/<P>/<M>`, `<origin>/v1/apps/<P>`,
 * `<origin>/v1/apps/<P>/<tenant>`, `<origin>/<P>`, or the bare project ID. Other projects and
 * other hosts never match.
 */
export function createIssuerMatcher(
  resolved: Pick<DescopeIssuer, "issuer" | "projectId" | "origins">,
): (iss: unknown) => boolean {
  const p = resolved.projectId;
  const seg = "[A-Za-z0-9_-]{1,128}";
  const pathPattern = new RegExp(`^/(?:v1/apps/agentic/${p}/${seg}|v1/apps/${p}(?:/${seg})?|${p})$`);
  const origins = new Set(resolved.origins);
  const seen = new Map<string, boolean>();
  const check = (iss: string): boolean => {
    if (iss === p || iss === resolved.issuer) return true;
    let url: URL;
    try {
      url = new URL(iss);
    } catch {
      return false;
    }
    if (url.search || url.hash || url.username || url.password) return false;
    if (!origins.has(url.origin)) return false;
    // Compare against the raw string too, so that URL normalisation (dot segments, %-escapes) cannot smuggle a path.
    return pathPattern.test(url.pathname) && iss === `${url.origin}${url.pathname}`;
  };
  return (iss) => {
    if (typeof iss !== "string" || iss.length === 0 || iss.length > 2048) return false;
    let verdict = seen.get(iss);
    if (verdict === undefined) {
      verdict = check(iss);
      if (seen.size < 256) seen.set(iss, verdict);
    }
    return verdict;
  };
}
