import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WeChatClient } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { type ErrorCode } from "../runtime/errors/index.ts";
import { WeChatApiError } from "../elements/auths/loginTypes/WeChatMiniType/wechat/errors.ts";

/**
 * The contract every WeChat client implementation must pass against a WeChat-compatible
 * server (ARCHITECTURE.md, "Conventions"). `setup` gives a server where `appId`/`appSecret` are registered and
 * `mintCode` issues a fresh wx.login code; run it against the fake in wechat-client.test.ts.
 */
export interface WeChatContractEnv {
  appId: string;
  appSecret: string;
  makeClient(options: { appId: string; appSecret: string }): WeChatClient;
  mintCode(input: { openId: string; unionId?: string }): string;
  close(): Promise<void>;
}

/** No secret in any form an error can take on its way to a log. */
export function expectNoSecret(err: unknown, secrets: string[]): void {
  const forms = [JSON.stringify(err), String(err), inspect(err, { depth: 5, showHidden: true }), (err as Error)?.message ?? "", (err as Error)?.stack ?? ""];
  for (const secret of secrets) for (const form of forms) expect(form).not.toContain(secret);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

export function describeWeChatClientContract(label: string, setup: () => Promise<WeChatContractEnv>): void {
  describe(`WeChat client contract: ${label}`, () => {
    let env: WeChatContractEnv;
    beforeAll(async () => {
      env = await setup();
    });
    afterAll(async () => {
      await env?.close();
    });

    it("exchanges a code for openId, unionId and sessionKey", async () => {
      const client = env.makeClient(env);
      const code = env.mintCode({ openId: "o-contract-1", unionId: "u-contract-1" });
      const session = await client.code2Session(code);
      expect(session.openId).toBe("o-contract-1");
      expect(session.unionId).toBe("u-contract-1");
      expect(Buffer.from(session.sessionKey, "base64")).toHaveLength(16);
      expect(Object.keys(session).sort()).toEqual(["openId", "sessionKey", "unionId"]);
    });

    it("gives unionId null when WeChat sends none", async () => {
      const session = await env.makeClient(env).code2Session(env.mintCode({ openId: "o-contract-2" }));
      expect(session.unionId).toBeNull();
    });

    const cases: Array<[string, () => { appId: string; appSecret: string; code: string }, ErrorCode, number]> = [
      ["a used code", () => ({ ...env, code: "__used__" }), "WECHAT_CODE_USED", 40163],
      ["an unknown code", () => ({ ...env, code: "no-such-code-000000000000" }), "WECHAT_CODE_INVALID", 40029],
      ["a wrong AppSecret", () => ({ appId: env.appId, appSecret: "wrong-secret-123", code: env.mintCode({ openId: "o-x" }) }), "WECHAT_BAD_CREDENTIALS", 40125],
      ["an unknown AppID", () => ({ appId: "wx-unknown-app", appSecret: env.appSecret, code: env.mintCode({ openId: "o-x" }) }), "WECHAT_BAD_CREDENTIALS", 40013],
    ];
    for (const [what, input, code, errcode] of cases) {
      it(`maps ${what} to ${code} (${errcode}) with the rid kept and no secret leaked`, async () => {
        const { appId, appSecret, code: given } = input();
        const client = env.makeClient({ appId, appSecret });
        let jsCode = given;
        if (given === "__used__") {
          jsCode = env.mintCode({ openId: "o-used" });
          await client.code2Session(jsCode);
        }
        const err = await failure(client.code2Session(jsCode));
        expect(err).toBeInstanceOf(WeChatApiError);
        expect((err as WeChatApiError).code).toBe(code);
        expect((err as WeChatApiError).errcode).toBe(errcode);
        expect((err as WeChatApiError).rid).toMatch(/^[0-9a-z-]+$/i);
        expect(JSON.parse(JSON.stringify(err))).toMatchObject({ code, errcode });
        expectNoSecret(err, [appSecret, jsCode, env.appSecret]);
      });
    }
  });
}
