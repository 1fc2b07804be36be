import type { ErrorCode } from "../errors/codes.ts";

/**
 * The two ways a call from the mini program fails, each its own class so a page branches
 * on the class or on `code`, never on message text:
 * - JitApiError: the server answered with its error envelope; `code` is a registered code
 *   (docs/error-codes.md), `requestId` is what to quote when asking the operator.
 * - JitClientError: no usable answer (network, wx.login failed, an answer that is not the
 *   envelope), registration is off in this client, or bind/unbind without a session.
 */
export class JitApiError extends Error {
  override readonly name = "JitApiError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly requestId: string | null;
  constructor(code: ErrorCode, message: string, status: number, requestId: string | null) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

export type ClientErrorCode = "NETWORK_ERROR" | "WX_LOGIN_FAILED" | "BAD_RESPONSE" | "REGISTRATION_OFF" | "NOT_LOGGED_IN";

export class JitClientError extends Error {
  override readonly name = "JitClientError";
  readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
