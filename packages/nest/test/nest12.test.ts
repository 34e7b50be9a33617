// The HTTP suites on Nest 12 (the devDependencies), on Express and Fastify.
import { httpSuite } from "./suites/http.js";

httpSuite("Nest 12");
