// Interim demo: the core verifying a token minted by the local Descope emulator.
import { createDescopeMcpAuth } from "@descope-mcp/core";
import { startDescopeEmulator } from "@descope-mcp/testing";

const emu = await startDescopeEmulator({ audience: "http://127.0.0.1:3001/mcp" });
try {
  console.log(`emulator   ${emu.issuerURL}`);
  const auth = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: "http://127.0.0.1:3001" });
  const token = await emu.mintToken({ scope: "openid notes:write" });
  const session = await auth.verifyToken(token);
  console.log(`verified   user=${session.userId} scopes=${session.scopes.join(" ")} expires=${session.expiresAt.toISOString()}`);
  try {
    await auth.verifyToken(await emu.tokens.expired());
  } catch (error) {
    console.log(`refused    expired token → ${error.code}`);
  }
} finally {
  await emu.close();
}
