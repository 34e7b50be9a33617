// The Nest example on the Fastify platform as a benchmark target (see nest.mjs).
process.env.NEST_PLATFORM = "fastify";
await import("./nest.mjs");
