import { builtExamples } from "../../e2e/servers.mjs";

/** Every built example target (`express`, `hono`, `hono@workerd`, `nest@fastify`, …): new ones join automatically. */
export const EXAMPLES: string[] = builtExamples();
