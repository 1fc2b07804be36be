import { decryptUserData, verifyRawData } from "./vault/index.ts";
import type { WeChatGateway } from "./gateway.ts";
import { VaultError } from "./vault/errors.ts";

/**
 * Open data of a bound user, decrypted with the session key the vault holds for them. The
 * key stays inside this module: only the decrypted record (or a coded error) comes out.
 */
export async function decryptForUser(gateway: WeChatGateway, userId: number, encryptedData: string, iv: string): Promise<Record<string, unknown>> {
  const sessionKey = await gateway.sessionKeyOf(userId);
  return decryptUserData({ sessionKey, encryptedData, iv, appId: gateway.appId });
}

/** rawData signature check with the user's stored session key. */
export async function verifyForUser(gateway: WeChatGateway, userId: number, rawData: string, signature: string): Promise<{ valid: true }> {
  const sessionKey = await gateway.sessionKeyOf(userId);
  if (!verifyRawData({ sessionKey, rawData, signature })) throw new VaultError("SIGNATURE_INVALID");
  return { valid: true };
}
