// The HTTP suites on Nest 11 at its lowest releases (test/nest11): the Nest package names the suites
// and the adapter import are redirected to that install, whose packages resolve their peers there.
import { createRequire } from "node:module";
import { Injectable } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { expect, it, vi } from "vitest";
import { httpSuite } from "./suites/http.js";

const nest11 = vi.hoisted(() => async (name: string) => {
  const { createRequire } = await import("node:module");
  const { pathToFileURL } = await import("node:url");
  const require = createRequire(new URL("./nest11/package.json", import.meta.url));
  return (await import(pathToFileURL(require.resolve(name)).href)) as Record<string, unknown>;
});
vi.mock("@nestjs/common", () => nest11("@nestjs/common"));
vi.mock("@nestjs/core", () => nest11("@nestjs/core"));
vi.mock("@nestjs/platform-express", () => nest11("@nestjs/platform-express"));
vi.mock("@nestjs/platform-fastify", () => nest11("@nestjs/platform-fastify"));

it("runs on Nest 11.0.0", async () => {
  const require = createRequire(new URL("./nest11/package.json", import.meta.url));
  expect(require("@nestjs/core/package.json").version).toBe("11.0.0");
  expect(require("@nestjs/platform-fastify/package.json").version).toBe("11.0.3");
  expect(NestFactory).toBe((await nest11("@nestjs/core")).NestFactory);
  expect(Injectable).toBe((await nest11("@nestjs/common")).Injectable);
});

httpSuite("Nest 11");
