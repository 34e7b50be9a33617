import { createDescopeMcpAuth, type DescopeMcpAuth, type DescopeMcpAuthOptions } from "@descope-mcp/core";
import { ConfigurableModuleBuilder, Inject, type MiddlewareConsumer, Module, type NestModule } from "@nestjs/common";
import { ApplicationConfig, HttpAdapterHost } from "@nestjs/core";
import { DescopeMcpAuthGuard } from "./guard.js";
import {
  type HttpAdapterLike,
  keepExpressParsersOffMcpPath,
  keepFastifyParsersOffMcpPath,
  serveMetadata,
} from "./platform.js";
import { DescopeMcpSessionInterceptor } from "./session.js";
import { DESCOPE_MCP_AUTH } from "./tokens.js";

/**
 * What `DescopeMcpAuthModule.forRoot()` (or the `useFactory` of `forRootAsync()`) takes: the core's
 * options (`issuerURL`, `baseURL`, `toolScopes`, …), or `{ engine }` to use an engine made with
 * `createDescopeMcpAuth()` / `createDescopeMcpAuthFromEnv()` (e.g. one shared with other code).
 */
export type DescopeMcpAuthModuleOptions =
  | DescopeMcpAuthOptions
  | {
      /** An engine made with `createDescopeMcpAuth` or `createDescopeMcpAuthFromEnv` (and maybe shared). */
      engine: DescopeMcpAuth;
    };

/** Options of the module itself, beside the engine's: `isGlobal` makes `DESCOPE_MCP_AUTH` and the guard injectable everywhere. */
export interface DescopeMcpAuthModuleExtras {
  /** Register the module globally (default `false`: import it where the guard or the engine is used). */
  isGlobal?: boolean;
}

const built = new ConfigurableModuleBuilder<DescopeMcpAuthModuleOptions>({ moduleName: "DescopeMcpAuth" })
  .setClassMethodName("forRoot")
  .setExtras<DescopeMcpAuthModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal === true,
  }))
  .build();

/** The argument of `DescopeMcpAuthModule.forRoot()`. */
export type DescopeMcpAuthModuleForRootOptions = typeof built.OPTIONS_TYPE;
/** The argument of `DescopeMcpAuthModule.forRootAsync()` (`imports`, `inject`, `useFactory`, `useClass`, `useExisting`, `isGlobal`). */
export type DescopeMcpAuthModuleAsyncOptions = typeof built.ASYNC_OPTIONS_TYPE;

function engineFrom(options: DescopeMcpAuthModuleOptions): DescopeMcpAuth {
  return "engine" in options && options.engine
    ? options.engine
    : createDescopeMcpAuth(options as DescopeMcpAuthOptions);
}

/**
 * Descope in front of a Nest MCP server. Provides the core engine under `DESCOPE_MCP_AUTH` and
 * `DescopeMcpAuthGuard`, serves the well-known metadata (path-aware and root protected resource
 * metadata, Descope's authorization server metadata) at the origin root — outside any global prefix,
 * before Nest's 404 — and lets the gate read the MCP endpoint's body before Nest's body parsers do.
 *
 * ```ts
 * @Module({
 *   imports: [DescopeMcpAuthModule.forRoot({ issuerURL, baseURL, toolScopes: { write_note: ["notes:write"] } })],
 *   providers: [{ provide: APP_GUARD, useClass: DescopeMcpAuthGuard }],
 *   controllers: [McpController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({
  providers: [
    { provide: DESCOPE_MCP_AUTH, inject: [built.MODULE_OPTIONS_TOKEN], useFactory: engineFrom },
    DescopeMcpAuthGuard,
  ],
  exports: [DESCOPE_MCP_AUTH, DescopeMcpAuthGuard],
})
export class DescopeMcpAuthModule extends built.ConfigurableModuleClass implements NestModule {
  constructor(
    @Inject(DESCOPE_MCP_AUTH) private readonly auth: DescopeMcpAuth,
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(ApplicationConfig) private readonly application: ApplicationConfig,
  ) {
    super();
  }

  /** Runs during `app.init()`: after Nest registered its body parsers, before it registers any controller route. */
  configure(_consumer: MiddlewareConsumer): void {
    // The engine's `sessionContext` option: a global interceptor runs every authenticated request with
    // its session current. Added only then: any interceptor at all costs each request Nest's rxjs
    // pipeline, and without the option there is nothing for it to do.
    if (this.auth.config.sessionContext) {
      this.application.addGlobalInterceptor(new DescopeMcpSessionInterceptor(this.auth));
    }
    const adapter = this.host.httpAdapter as unknown as HttpAdapterLike | undefined;
    if (!adapter) return; // an application context without HTTP
    if (adapter.getType() === "fastify") keepFastifyParsersOffMcpPath(adapter.getInstance(), this.auth);
    else keepExpressParsersOffMcpPath(adapter.getInstance(), this.auth);
    serveMetadata(adapter, this.auth);
  }
}
