export { createSessionKeyVault, type SessionKeyVault } from "./sessionKeyVault.ts";
export { createAccessTokenSeal, type AccessTokenSeal } from "./accessTokenSeal.ts";
export { decryptUserData, verifyRawData, sessionSignature, decodeStrictBase64, type EncryptedUserData } from "./dataCrypto.ts";
