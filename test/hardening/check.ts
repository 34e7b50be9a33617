// Compares one answer with a corpus expectation; returns every problem found (empty = as expected).
import type { CorpusContext, Expectation } from "./corpus.js";
import { isHeaderSafe, parseChallenge } from "./lib.js";

export interface Answer {
  status: number;
  /** Lower-case header name → every value. */
  headers: Record<string, string[]>;
  /** Parsed JSON body, or undefined. */
  body: unknown;
}

const PARAM_ORDER = ["error", "error_description", "scope", "resource_metadata"];

export function checkAnswer(c: CorpusContext, exp: Expectation, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status !== exp.status) problems.push(`status ${answer.status}, expected ${exp.status}`);

  for (const [name, values] of Object.entries(answer.headers)) {
    for (const v of values) if (!isHeaderSafe(v)) problems.push(`header ${name} carries unsafe characters`);
  }

  const body = answer.body as Record<string, unknown> | undefined;
  const bodyError = body && typeof body === "object" && typeof body.error === "string" ? body.error : null;
  if (bodyError !== exp.error) problems.push(`body error ${JSON.stringify(bodyError)}, expected ${exp.error}`);

  const challenges = answer.headers["www-authenticate"] ?? [];
  if (exp.challenge === null) {
    if (challenges.length > 0) problems.push(`unexpected challenge ${challenges[0]}`);
  } else if (challenges.length !== 1) {
    problems.push(`expected one challenge, got ${challenges.length}`);
  } else {
    const header = challenges[0] as string;
    const want = exp.challenge;
    const parsed = parseChallenge(header);
    if (want.exact && header !== want.exact(c)) problems.push(`challenge ${header}, expected ${want.exact(c)}`);
    if (!parsed) {
      problems.push(`challenge does not parse strictly: ${header}`);
    } else {
      const params = new Map(parsed.params);
      if (parsed.scheme !== "Bearer") problems.push(`challenge scheme ${parsed.scheme}`);
      const names = parsed.params.map(([n]) => n);
      const expectedNames = PARAM_ORDER.filter(
        (n) =>
          (n === "error" && want.error) ||
          (n === "error_description" && want.error) ||
          (n === "scope" && want.scope !== null) ||
          n === "resource_metadata",
      );
      if (names.join(",") !== expectedNames.join(",")) {
        problems.push(`challenge parameters ${names.join(",")}, expected ${expectedNames.join(",")}`);
      }
      if (want.error && params.get("error") !== want.error) problems.push(`challenge error ${params.get("error")}`);
      const description = params.get("error_description");
      if (want.description && !(description && want.description.test(description))) {
        problems.push(`challenge error_description ${JSON.stringify(description)} does not match ${want.description}`);
      }
      if (description && body && typeof body.error_description === "string" && isHeaderSafe(body.error_description)) {
        if (body.error_description !== description) problems.push("body error_description differs from the header");
      }
      if (want.scope !== null && params.get("scope") !== want.scope) {
        problems.push(`challenge scope ${JSON.stringify(params.get("scope"))}, expected ${JSON.stringify(want.scope)}`);
      }
      if (params.get("resource_metadata") !== c.prm) {
        problems.push(`challenge resource_metadata ${params.get("resource_metadata")}, expected ${c.prm}`);
      }
    }
  }

  if (exp.rpc) {
    const messages = Array.isArray(body) ? body : [body];
    const ok = (m: unknown) => {
      const r = m as { result?: { isError?: boolean }; error?: unknown } | undefined;
      return exp.rpc === "result"
        ? !!r?.result && r.result.isError !== true
        : !!r?.error || r?.result?.isError === true;
    };
    if (!messages.every(ok))
      problems.push(`JSON-RPC answer is not a ${exp.rpc}: ${JSON.stringify(body).slice(0, 200)}`);
  }
  return problems;
}
