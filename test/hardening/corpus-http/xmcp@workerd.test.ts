// The hostile corpus over HTTP against the xmcp@workerd example (the suite: ../corpus-http.suite.ts; one file
// per target, so the targets run in parallel).
import { describeCorpusHttp } from "../corpus-http.suite.js";

describeCorpusHttp("xmcp@workerd");
