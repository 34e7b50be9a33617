import "reflect-metadata";
import {
  type AuthEvent,
  ConfigurationError,
  createDescopeMcpAuthFromEnv,
  type DescopeMcpAuth,
} from "@descope-mcp/core";
import { DESCOPE_MCP_AUTH, DescopeMcpAuthGuard, DescopeMcpAuthModule, nodeHttp, Public } from "@descope-mcp/nest";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import {
  All,
  Controller,
  type DynamicModule,
  Get,
  type INestApplication,
  Inject,
  Module,
  Req,
  Res,
} from "@nestjs/common";
import { APP_GUARD, NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { buildMcpServer } from "./tools.js";

/** The example's policy: `write_note` needs `notes:write`; clients start with the basic scopes. */
export const POLICY = {
  toolScopes: { write_note: ["notes:write"] },
  challengeScopes: ["openid", "outbound.token.fetch"],
  scopesSupported: ["openid", "outbound.token.fetch", "notes:write"],
  resourceName: "descope-mcp Nest example",
};

/**
 * `AUDIT_LOG=1` prints one line per gate decision (`audit allow 200 ok`, `audit deny 403
 * insufficient_scope`) and per tool run (`tool write_note ran`): what black-box tests observe to prove
 * a refused tool never ran. Never a token.
 */
export function auditLog(env: Record<string, string | undefined>): {
  onEvent?: (event: AuthEvent) => void;
  toolRan: (name: string) => void;
} {
  if (env.AUDIT_LOG !== "1") return { toolRan: () => undefined };
  return {
    onEvent: (e) =>
      console.log(`audit ${e.type} ${e.status} ${e.reason}${e.tools ? ` tools=${e.tools.join(",")}` : ""}`),
    toolRan: (name) => console.log(`tool ${name} ran`),
  };
}

const TOOL_RAN = Symbol("tool-ran");

/** The MCP endpoint at `mcpPath`: one stateless Streamable HTTP server per request (SDK v2). */
function mcpController(mcpPath: string) {
  @Controller()
  class McpController {
    constructor(
      @Inject(DESCOPE_MCP_AUTH) private readonly auth: DescopeMcpAuth,
      @Inject(TOOL_RAN) private readonly toolRan: (name: string) => void,
    ) {}

    // @All: the guard answers preflights and 405s; a stateless server serves only POST itself.
    @All(mcpPath)
    async mcp(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      const { req, res, body } = nodeHttp(request, response);
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST, OPTIONS", "content-type": "application/json" });
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            error: { code: -32000, message: "Method not allowed: this stateless server only accepts POST" },
            id: null,
          }),
        );
        return;
      }
      const server = buildMcpServer(this.auth, this.toolRan);
      const transport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    }
  }
  return McpController;
}

@Controller()
class HealthController {
  @Public()
  @Get("health")
  health() {
    return { status: "ok" };
  }
}

@Module({})
class AppModule {
  /**
   * The app: Descope's module with the engine, its guard on every route (`/health` is `@Public()`),
   * the MCP endpoint. With `guarded: false` (the benchmark's baseline) the same app without Descope.
   */
  static forRoot(auth: DescopeMcpAuth, toolRan: (name: string) => void, guarded = true): DynamicModule {
    return {
      module: AppModule,
      imports: guarded ? [DescopeMcpAuthModule.forRoot({ engine: auth })] : [],
      controllers: [HealthController, mcpController(auth.config.mcpPath)],
      providers: [
        { provide: TOOL_RAN, useValue: toolRan },
        guarded ? { provide: APP_GUARD, useClass: DescopeMcpAuthGuard } : { provide: DESCOPE_MCP_AUTH, useValue: auth },
      ],
    };
  }
}

/** `NEST_PLATFORM`: `express` (default) or `fastify`. */
export function platformOf(env: Record<string, string | undefined>): "express" | "fastify" {
  const platform = env.NEST_PLATFORM ?? "express";
  if (platform !== "express" && platform !== "fastify") {
    throw new ConfigurationError(`NEST_PLATFORM must be "express" or "fastify", got "${platform}"`, "NEST_PLATFORM");
  }
  return platform;
}

/**
 * Creates the Nest app on the platform `NEST_PLATFORM` names, configured from the environment
 * (`DESCOPE_ISSUER_URL`, `BASE_URL`, `MCP_PATH`, …). Throws a `DescopeMcpError` naming the variable
 * when one is missing or malformed.
 */
export async function createApp(
  env: Record<string, string | undefined> = process.env,
  { guarded = true }: { guarded?: boolean } = {},
): Promise<{ app: INestApplication; auth: DescopeMcpAuth }> {
  const platform = platformOf(env);
  const audit = auditLog(env);
  const auth = createDescopeMcpAuthFromEnv(env, audit.onEvent ? { ...POLICY, onEvent: audit.onEvent } : POLICY);
  const app = await NestFactory.create(
    AppModule.forRoot(auth, audit.toolRan, guarded),
    platform === "fastify" ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: ["error", "warn"] },
  );
  return { app, auth };
}
