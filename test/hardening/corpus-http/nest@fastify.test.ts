// The hostile corpus over HTTP against the nest@fastify example (the suite: ../corpus-http.suite.ts; one file
// per target, so the targets run in parallel).
import { describeCorpusHttp } from "../corpus-http.suite.js";

describeCorpusHttp("nest@fastify");
