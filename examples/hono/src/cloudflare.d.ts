// The one Workers API this example uses (the full types are in @cloudflare/workers-types).
declare module "cloudflare:workers" {
  /** Extends the current request's lifetime until `promise` settles. */
  export function waitUntil(promise: Promise<unknown>): void;
}
