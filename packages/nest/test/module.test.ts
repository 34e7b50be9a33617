// DescopeMcpAuthModule: forRoot and forRootAsync (useFactory with imports and inject, useClass, a
// ready engine), isGlobal, and an application context without HTTP.
import { ConfigurationError, createDescopeMcpAuth, type DescopeMcpAuth } from "@descope-mcp/core";
import { type DescopeEmulator, startDescopeEmulator } from "@descope-mcp/testing";
import { Controller, Get, Injectable, Module, UseGuards } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DescopeMcpAuthGuard,
  DescopeMcpAuthModule,
  type DescopeMcpAuthModuleOptions,
  InjectDescopeMcpAuth,
} from "../src/index.js";
import { BASE_URL, RESOURCE, startNest } from "./helpers.js";

let emu: DescopeEmulator;
beforeAll(async () => {
  emu = await startDescopeEmulator({ audience: RESOURCE });
});
afterAll(() => emu.close());

const CONFIG = Symbol("config");

@Module({
  providers: [{ provide: CONFIG, useFactory: () => ({ issuer: emu.issuerURL, base: BASE_URL }) }],
  exports: [CONFIG],
})
class ConfigModule {}

@Injectable()
class UsesTheEngine {
  constructor(@InjectDescopeMcpAuth() readonly auth: DescopeMcpAuth) {}
}

@Injectable()
class DescopeOptionsFactory {
  create(): DescopeMcpAuthModuleOptions {
    return { issuerURL: emu.issuerURL, baseURL: BASE_URL, mcpPath: "/from-class" };
  }
}

async function engineOf(imports: unknown[]): Promise<DescopeMcpAuth> {
  @Module({ imports: imports as never[], providers: [UsesTheEngine] })
  class Root {}
  const context = await NestFactory.createApplicationContext(Root, { logger: false, abortOnError: false });
  try {
    return context.get(UsesTheEngine).auth;
  } finally {
    await context.close();
  }
}

describe("DescopeMcpAuthModule", () => {
  it("forRoot builds the engine from the core's options and provides it under DESCOPE_MCP_AUTH", async () => {
    const auth = await engineOf([DescopeMcpAuthModule.forRoot({ issuerURL: emu.issuerURL, baseURL: BASE_URL })]);
    expect(auth.config.resourceURL).toBe(RESOURCE);
    expect(auth.config.issuer.issuer).toBe(emu.issuerURL);
  });

  it("forRoot({ engine }) provides that very engine", async () => {
    const engine = createDescopeMcpAuth({ issuerURL: emu.issuerURL, baseURL: BASE_URL });
    expect(await engineOf([DescopeMcpAuthModule.forRoot({ engine })])).toBe(engine);
  });

  it("forRootAsync takes imports, inject and useFactory", async () => {
    const auth = await engineOf([
      DescopeMcpAuthModule.forRootAsync({
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (config: { issuer: string; base: string }) => ({ issuerURL: config.issuer, baseURL: config.base }),
      }),
    ]);
    expect(auth.config.resourceURL).toBe(RESOURCE);
  });

  it("forRootAsync takes a useClass factory (its create() method)", async () => {
    const auth = await engineOf([DescopeMcpAuthModule.forRootAsync({ useClass: DescopeOptionsFactory })]);
    expect(auth.config.resourceURL).toBe(`${BASE_URL}/from-class`);
  });

  it("keeps isGlobal out of the engine's options (the core refuses unknown options)", async () => {
    const options = { issuerURL: emu.issuerURL, baseURL: BASE_URL };
    const viaAsync = DescopeMcpAuthModule.forRootAsync({ useFactory: () => options, isGlobal: true });
    for (const module of [DescopeMcpAuthModule.forRoot({ ...options, isGlobal: true }), viaAsync]) {
      expect(module.global).toBe(true);
      expect((await engineOf([module])).config.resourceURL).toBe(RESOURCE);
    }
  });

  it("is local unless isGlobal: a feature module then sees the engine and the guard's dependencies", async () => {
    @Module({ providers: [UsesTheEngine] })
    class Feature {}
    @Module({ imports: [DescopeMcpAuthModule.forRoot({ issuerURL: emu.issuerURL, baseURL: BASE_URL }), Feature] })
    class Local {}
    await expect(NestFactory.createApplicationContext(Local, { logger: false, abortOnError: false })).rejects.toThrow(
      /can't resolve dependencies of the UsesTheEngine/,
    );

    @Controller("feature")
    @UseGuards(DescopeMcpAuthGuard)
    class FeatureController {
      @Get()
      get() {
        return { ok: true };
      }
    }
    @Module({ controllers: [FeatureController], providers: [UsesTheEngine] })
    class GuardedFeature {}
    const app = await startNest("express", {
      imports: [
        DescopeMcpAuthModule.forRoot({ issuerURL: emu.issuerURL, baseURL: BASE_URL, isGlobal: true }),
        GuardedFeature,
      ],
    });
    try {
      expect((await fetch(`${app.url}/feature`)).status).toBe(401);
      const token = await emu.mintToken({ aud: RESOURCE });
      const ok = await fetch(`${app.url}/feature`, { headers: { authorization: `Bearer ${token}` } });
      expect(await ok.json()).toEqual({ ok: true });
      expect(app.app.get(UsesTheEngine).auth.config.resourceURL).toBe(RESOURCE);
    } finally {
      await app.close();
    }
  });

  it("refuses a bad configuration when the app is created, with the core's ConfigurationError", async () => {
    @Module({ imports: [DescopeMcpAuthModule.forRoot({ issuerURL: emu.issuerURL, baseURL: "not a url" })] })
    class Broken {}
    const created = NestFactory.create(Broken, { logger: false, abortOnError: false });
    await expect(created).rejects.toBeInstanceOf(ConfigurationError);
    await expect(created).rejects.toMatchObject({ field: "baseURL" });
  });
});
