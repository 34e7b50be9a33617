import { handler } from "@/lib/descope";

export { handler as GET, handler as HEAD, handler as OPTIONS };
