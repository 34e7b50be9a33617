// The process-wide state behind `getSession()` without an argument (see the core's session-store.ts):
// once anything turned the session context on, it stays on for the process. Tests that pin the
// default (off) start from a fresh state with this.
export function resetSessionContext(): void {
  delete (globalThis as Record<symbol, unknown>)[Symbol.for("@descope-mcp/core.session-context")];
}

/** What `getSession()` answered: the user ID, `"none"`, or the message it threw. */
export function attempt(read: () => { userId: string } | undefined): string {
  try {
    return read()?.userId ?? "none";
  } catch (error) {
    return (error as Error).message;
  }
}
