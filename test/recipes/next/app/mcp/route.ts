import { handler } from "@/lib/descope";

export { handler as DELETE, handler as GET, handler as OPTIONS, handler as POST };
