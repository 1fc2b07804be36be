import { runWithCallContext } from "../context/callContext.ts";
import { SessionError } from "../errors/index.ts";
import type { Caller, ServedApp } from "./types.ts";

/**
 * Resolves `Authorization: Bearer <token>` to the logged-in user. Sessions belong to a
 * family, not to the runtime: the server asks each family's session lookup in turn
 * (FamilyDefinition.sessionLookup) and takes the first that knows the token.
 */

const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** The token in the header; null when there is no Authorization header. Malformed → TOKEN_INVALID. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !TOKEN_SHAPE.test(match[1]!)) throw new SessionError("TOKEN_INVALID");
  return match[1]!;
}

export function makeSessionResolver(app: ServedApp): (token: string, requestId: string) => Promise<Caller> {
  const lookups = (app.families?.list ?? []).flatMap((family) => (family.definition.sessionLookup ? [family.definition.sessionLookup] : []));
  const context = app as unknown as Parameters<NonNullable<(typeof lookups)[number]>>[1];
  return async (token, requestId) => {
    // The token travels both ways a lookup may read it: as the argument and in the call context.
    const found = await runWithCallContext({ via: "http", requestId, token }, async () => {
      for (const lookup of lookups) {
        const caller = await lookup(token, context);
        if (caller) return caller;
      }
      return null;
    });
    if (!found || !Number.isSafeInteger(found.userId)) throw new SessionError("TOKEN_INVALID");
    return { userId: found.userId, corpId: typeof found.corpId === "string" ? found.corpId : null, token };
  };
}
