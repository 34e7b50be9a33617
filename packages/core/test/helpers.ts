import { DescopeMcpError } from "../src/index.js";

/** "accepted", or the typed error as "code: message"; anything untyped is rethrown (a test failure). */
export async function verdictOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (error instanceof DescopeMcpError) return `${error.code}: ${error.message}`;
    throw error;
  }
}
