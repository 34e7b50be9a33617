import { describe, expect, it } from "vitest";
import { extractBearerToken, InvalidRequestError, UnauthorizedError } from "../src/index.js";

const T = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";

function outcome(authorization: string | string[] | undefined | null, url?: string): string {
  try {
    return `token:${extractBearerToken({ authorization, url })}`;
  } catch (error) {
    if (error instanceof UnauthorizedError) return "401";
    if (error instanceof InvalidRequestError) return "400";
    throw error;
  }
}

describe("Authorization header parsing", () => {
  it.each([
    [`Bearer ${T}`, `token:${T}`],
    [`bearer ${T}`, `token:${T}`],
    [`BEARER ${T}`, `token:${T}`],
    [`Bearer   ${T}`, `token:${T}`],
    [` Bearer ${T} `, `token:${T}`],
    // Optional whitespace around the field value (SP or HTAB), when the HTTP layer left it there.
    [`\tBearer ${T}\t`, `token:${T}`],
    [` Bearer ${T}\t `, `token:${T}`],
    [`Bearer ${T} \t `, `token:${T}`],
    ["\t", "401"],
    ["Bearer abc~+/=", "token:abc~+/="],
    [undefined, "401"],
    [null, "401"],
    ["", "401"],
    ["   ", "401"],
    ["Basic dXNlcjpwYXNz", "401"],
    ["Token abc", "401"],
    ["Bearer", "400"],
    ["Bearer ", "400"],
    [`Bearer\t${T}`, "400"],
    [`Bearer ${T}\tx`, "400"],
    [`Bearer ${T} ${T}`, "400"],
    [`Bearer ${T}, Bearer ${T}`, "400"],
    [`Bearer "${T}"`, "400"],
    [`Bearer ${T}\r\nX-Evil: 1`, "400"],
    ["Bearer t\u00f6ken", "400"],
    ["Bearer a=b", "400"],
    [`Be@rer ${T}`, "400"],
    [`=Bearer ${T}`, "400"],
  ])("%j → %s", (header, expected) => {
    expect(outcome(header)).toBe(expected);
  });

  it("refuses two Authorization headers", () => {
    expect(outcome([`Bearer ${T}`, `Bearer ${T}`])).toBe("400");
    expect(outcome([`Bearer ${T}`])).toBe(`token:${T}`);
    expect(outcome([])).toBe("401");
  });

  it("refuses a token in the query string, with or without a header", () => {
    expect(outcome(`Bearer ${T}`, `/mcp?access_token=${T}`)).toBe("400");
    expect(outcome(undefined, `https://x.example/mcp?a=1&access_token=${T}`)).toBe("400");
    expect(outcome(`Bearer ${T}`, "/mcp?a=1#access_token=x")).toBe(`token:${T}`);
  });

  it("explains what was wrong", () => {
    expect(() => extractBearerToken({ authorization: ["a", "b"] })).toThrow("Send exactly one Authorization header");
    expect(() => extractBearerToken({ authorization: "Basic x" })).toThrow(
      "The Basic authentication scheme is not supported; use Bearer",
    );
    expect(() => extractBearerToken({ authorization: "Bearer a b" })).toThrow(
      "The Authorization header must hold exactly one Bearer token",
    );
  });
});
