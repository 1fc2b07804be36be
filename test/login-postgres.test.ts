import { afterAll, beforeAll } from "vitest";
import { describeLoginContract } from "./login.contract.ts";
import { loginContractSubject, makeLoginApp, passwordContractSubject } from "./helpers/loginFixture.ts";
import { createTestDatabase, describePg, randomName, type TestDatabase } from "./helpers/pgTest.ts";

// The login contract again, with the app's store on PostgreSQL (a schema per subject).
describePg("login on PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describeLoginContract("WeChatMiniType on PostgreSQL", async (options) => {
    const schema = randomName("s");
    const fx = await makeLoginApp({ allowRegister: options.allowRegister, isActive: options.isActive, registerCorpId: "contract-corp", db: db.url({ schema }) });
    return loginContractSubject(fx, async () => void (await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)));
  });

  describeLoginContract("PasswordType on PostgreSQL", async (options) => {
    const schema = randomName("s");
    const fx = await makeLoginApp({
      passwords: [{ name: "testPasswordLogin", allowRegister: options.allowRegister, isActive: options.isActive, registerCorpId: "contract-corp" }],
      db: db.url({ schema }),
    });
    return passwordContractSubject(fx, async () => void (await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)));
  });
});
