import type { InferSchema, ToolMetadata } from "xmcp";
import { z } from "zod";
import { json, toolRan } from "../descope";

export const schema = { text: z.string() };

export const metadata: ToolMetadata = {
  name: "write_note",
  description: "Save a note (needs the notes:write scope).",
};

// The gate refuses a call without notes:write with 403 before xmcp dispatches it.
export default function writeNote({ text }: InferSchema<typeof schema>) {
  toolRan("write_note");
  return json({ saved: true, length: text.length });
}
