import { describe, expect, it } from "vitest";
import { checkBodyHeaders, InvalidRequestError, PayloadTooLargeError } from "../src/index.js";

const json = { contentType: "application/json" };

describe("checkBodyHeaders", () => {
  it("refuses a declared empty body (Content-Length: 0) like an empty one", () => {
    expect(() => checkBodyHeaders({ ...json, contentLength: "0" })).toThrow(InvalidRequestError);
    expect(() => checkBodyHeaders({ ...json, contentLength: "0" })).toThrow(/body is empty/);
    expect(() => checkBodyHeaders({ ...json, contentLength: "2" })).not.toThrow();
    expect(() => checkBodyHeaders(json)).not.toThrow();
    expect(() => checkBodyHeaders({ ...json, contentLength: "11" }, 10)).toThrow(PayloadTooLargeError);
  });
});
