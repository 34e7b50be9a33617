// Every built example target (see e2e/servers.mjs): new examples and targets join automatically.
import { builtExamples } from "../../e2e/servers.mjs";

export function examples() {
  return builtExamples();
}
