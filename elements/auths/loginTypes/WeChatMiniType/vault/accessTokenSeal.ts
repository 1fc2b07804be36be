import { createSealBox } from "./sealBox.ts";
import { VaultError } from "./errors.ts";

/**
 * Seals a mini program's access token for the store: its own HKDF purpose (not the session
 * keys' key), and the AppID as AAD, so a token row copied onto another AppID does not open.
 */
export interface AccessTokenSeal {
  seal(appId: string, token: string): string;
  /** VAULT_SEAL_INVALID when the row does not open (tampered, or another master key). */
  open(appId: string, sealed: string): string;
}

const INFO = "jit/wechat-access-token/v1";

export function createAccessTokenSeal(masterKey: Buffer): AccessTokenSeal {
  const box = createSealBox(masterKey, INFO);
  const aad = (appId: string) => Buffer.from(JSON.stringify(["v1", "access_token", appId]), "utf8");
  return {
    seal: (appId, token) => box.seal(aad(appId), token),
    open(appId, sealed) {
      try {
        return box.open(aad(appId), sealed);
      } catch {
        throw new VaultError("VAULT_SEAL_INVALID", { appId });
      }
    },
  };
}
