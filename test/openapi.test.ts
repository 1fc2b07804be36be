import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedElements, servedFunctions } from "../runtime/http/routes.ts";
import { bodySchema } from "../runtime/http/schema.ts";
import { AUTH, LOGIN, startStack, type Stack } from "./helpers/http.ts";

// The OpenAPI document is generated from functionList: it validates against the OpenAPI 3.1
// schema, lists every served function with the schema its route validates with, and the
// interactive page is served from the package only when asked.
describe("OpenAPI document and /docs", () => {
  let stack: Stack;
  let plain: Stack;
  beforeAll(async () => {
    [stack, plain] = await Promise.all([startStack({ server: { docs: true } }), startStack()]);
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), plain?.close()]);
  });

  it("validates against the OpenAPI 3.1 schema", async () => {
    const res = await fetch(`${stack.base}/openapi.json`);
    expect(res.status).toBe(200);
    const document = await res.json();
    expect(document.openapi).toBe("3.1.0");
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("describes every served function with its route's body schema, its login and its error codes", async () => {
    const document = await (await fetch(`${plain.base}/openapi.json`)).json();
    const expected: string[] = [];
    for (const define of servedElements(stack.app)) {
      for (const decl of servedFunctions(define)) {
        const url = `/api/demo/${define.fullName.split(".").join("/")}/${decl.name}`;
        expected.push(url);
        const op = document.paths[url].post;
        expect(op.requestBody.content["application/json"].schema, url).toEqual(bodySchema(decl));
        expect(op.security, url).toEqual(decl.loginRequired === 0 ? [] : [{ bearer: [] }]);
      }
    }
    expect(Object.keys(document.paths).sort()).toEqual(expected.sort());
    // Server-side functions ("http": false) have no route, so no path.
    expect(document.paths[`${LOGIN}/checkSessionKey`]).toBeUndefined();
    expect(document.paths[`${LOGIN}/getPhoneNumber`]).toBeDefined();
    const register = document.paths[`${LOGIN}/register`].post;
    expect(register.responses["400"].description).toContain("BIND_CODE_INVALID");
    expect(register.responses["401"]).toBeUndefined();
    const me = document.paths[`${AUTH}/getCurrentUser`].post;
    expect(me.responses["401"].description).toContain("TOKEN_INVALID");
    expect(me.responses["401"].description).toContain("LOGIN_REQUIRED");
    expect(document.paths[`${LOGIN}/bind`].post.responses["429"].description).toContain("RATE_LIMITED");
    // Each login Type lists its own codes: the password Type's are not WeChat's, nor back.
    const password = document.paths["/api/demo/auths/loginTypes/myPasswordLogin/getLoginCode"].post;
    expect(password.responses["401"].description).toContain("CREDENTIALS_INVALID");
    expect(password.responses["429"].description).toContain("LOGIN_LOCKED");
    expect(JSON.stringify(password.responses)).not.toMatch(/WECHAT_|BIND_CODE_|SESSION_KEY_/);
    expect(JSON.stringify(document.paths[`${LOGIN}/getLoginCode`].post.responses)).not.toMatch(/CREDENTIALS_INVALID|USERNAME_TAKEN/);
  });

  it("matches what the routes enforce: a body the document refuses is refused", async () => {
    const document = await (await fetch(`${plain.base}/openapi.json`)).json();
    const schema = document.paths[`${LOGIN}/getLoginCode`].post.requestBody.content["application/json"].schema;
    expect(schema.additionalProperties).toBe(false);
    const res = await plain.call(`${LOGIN}/getLoginCode`, { code: "x", extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("API_PARAMS_ERROR");
  });

  it("serves Swagger UI from the package at /docs with a Content-Security-Policy, and not unless asked", async () => {
    const page = await fetch(`${stack.base}/docs/static/index.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // nothing from a CDN
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const bundle = await fetch(`${stack.base}/docs/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    for (const url of ["/docs", "/docs/static/index.html"]) {
      const res = await fetch(`${plain.base}${url}`);
      await res.text();
      expect(res.status, url).toBe(404);
    }
  });
});
