export {
  DEFAULT_MANAGEMENT_KEY,
  DEFAULT_MCP_SERVER_ID,
  DEFAULT_PROJECT_ID,
  DEFAULT_SCOPES_SUPPORTED,
  startDescopeEmulator,
} from "./emulator.js";
export { HeadlessOAuthClient, type HeadlessOAuthClientOptions } from "./headless-client.js";
export { DEFAULT_USER } from "./state.js";
export type {
  ConnectionState,
  DescopeEmulator,
  EmulatorOptions,
  EmulatorUser,
  Fault,
  FaultTarget,
  HostileTokenFactory,
  HostileTokens,
  MintOptions,
  RecordedRequest,
} from "./types.js";
