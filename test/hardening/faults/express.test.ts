// Upstream faults against the express example (the suites: ../faults.suite.ts; one file per target, so
// the targets run in parallel).
import { describeFaults } from "../faults.suite.js";

describeFaults("express");
