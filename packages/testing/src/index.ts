/**
 * `@descope-mcp/testing`: a local stand-in for Descope's hosted API (the emulator), token minting with
 * hostile variants, a headless OAuth client provider for the official MCP SDK clients, and an HTTPS host
 * for client ID metadata documents. Node only; everything listens on 127.0.0.1.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_MANAGEMENT_KEY,
  DEFAULT_MCP_SERVER_ID,
  DEFAULT_PROJECT_ID,
  DEFAULT_SCOPES_SUPPORTED,
  startDescopeEmulator,
} from "./emulator.js";
export {
  type CredentialScope,
  type HeadlessClientInformation,
  type HeadlessClientMetadata,
  type HeadlessDiscoveryState,
  HeadlessOAuthClient,
  type HeadlessOAuthClientOptions,
  type HeadlessTokens,
} from "./headless-client.js";
export {
  type ClientIdMetadataDocument,
  type ClientMetadataHost,
  type ClientMetadataHostOptions,
  type HostedRequest,
  type HostedResponse,
  startClientMetadataHost,
} from "./metadata-host.js";
export { DEFAULT_USER } from "./state.js";
export type {
  ClientIdMetadataDocumentOptions,
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
