// A Descope emulator for tests that must run unchanged on Node and inside workerd: the emulator
// itself runs on Node (started through the control server of ./global-setup.ts), this client only
// talks HTTP to it, so the same test file works in both vitest projects. Every method is async.
import type {
  ConnectionState,
  EmulatorOptions,
  Fault,
  FaultTarget,
  HostileTokens,
  MintOptions,
  RecordedRequest,
} from "@descope-mcp/testing";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the emulator control server (./global-setup.ts). */
    emulatorControl: string;
  }
}

export interface RemoteEmulator {
  baseURL: string;
  issuerURL: string;
  wellKnownURL: string;
  jwksURL: string;
  /** The emulator's JWKS served from the control server's origin. */
  controlJwksURL: string;
  projectId: string;
  mcpServerId: string;
  managementKey: string;
  mintToken(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>;
  hostileToken(kind: keyof HostileTokens, claims?: Record<string, unknown>): Promise<string>;
  setFault(target: FaultTarget, fault: Fault | undefined): Promise<void>;
  setConnection(appId: string, state: ConnectionState): Promise<void>;
  rotateKeys(): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  clearRequests(): Promise<void>;
  close(): Promise<void>;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${inject("emulatorControl")}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`emulator control ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Starts a fresh emulator (its own port, keys and state) for this test file. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RemoteEmulator> {
  const info = await call<Omit<RemoteEmulator, keyof Methods | "controlJwksURL"> & { id: string }>(
    "POST",
    "/emulators",
    options,
  );
  const at = `/emulators/${info.id}`;
  const methods: Methods = {
    mintToken: async (claims, mint) =>
      (await call<{ token: string }>("POST", `${at}/mint`, { claims, options: mint })).token,
    hostileToken: async (kind, claims) =>
      (await call<{ token: string }>("POST", `${at}/hostile`, { kind, claims })).token,
    setFault: async (target, fault) => void (await call("POST", `${at}/fault`, { target, fault: fault ?? null })),
    setConnection: async (appId, state) => void (await call("POST", `${at}/connection`, { appId, state })),
    rotateKeys: async () => void (await call("POST", `${at}/rotate`, {})),
    requests: () => call<RecordedRequest[]>("GET", `${at}/requests`),
    clearRequests: async () => void (await call("DELETE", `${at}/requests`)),
    close: async () => void (await call("DELETE", at)),
  };
  const { id: _id, ...fields } = info;
  return { ...fields, controlJwksURL: `${inject("emulatorControl")}${at}/jwks`, ...methods };
}

type Methods = Pick<
  RemoteEmulator,
  "mintToken" | "hostileToken" | "setFault" | "setConnection" | "rotateKeys" | "requests" | "clearRequests" | "close"
>;

/** A URL on the control server that answers `status` (default 302) with `Location: to`. */
export const redirectURL = (to: string, status = 302): string =>
  `${inject("emulatorControl")}/redirect?${new URLSearchParams({ to, status: String(status) })}`;

/** The control server's origin (not the emulator's). */
export const controlOrigin = (): string => inject("emulatorControl");

/** Whether this test runs inside workerd (the vitest "workerd" project) rather than on Node. */
export const inWorkerd: boolean =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";
