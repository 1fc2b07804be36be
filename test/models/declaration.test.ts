import path from "node:path";
import { describe, expect, it } from "vitest";
import { isJitError, loadApp } from "../../runtime/index.ts";
import { appJson, makeFixture } from "../helpers/appFixture.ts";
import { ORDER_MODEL } from "./fixture.ts";

async function problemsOf(model: Record<string, unknown>): Promise<Array<{ file?: string; pointer?: string; message: string }>> {
  const fx = await makeFixture({ ...appJson("shop"), "apps/shop/elements/models/OrderModel/e.json": model });
  try {
    await loadApp({ root: fx.root, appId: "shop", env: {} });
  } catch (err) {
    if (!isJitError(err) || err.code !== "DECLARATION_INVALID") throw err;
    return err.problems.map((p) => ({ file: p.file && path.relative(fx.root, p.file), pointer: p.pointer, message: p.message }));
  } finally {
    await fx.cleanup();
  }
  return [];
}

const FILE = path.join("apps", "shop", "elements", "models", "OrderModel", "e.json");
const fields = ORDER_MODEL.fields;

describe("model declarations", () => {
  it("accepts the issue's OrderModel", async () => {
    expect(await problemsOf(ORDER_MODEL)).toEqual([]);
  });

  it("names the file and JSON path of every problem at once", async () => {
    const problems = await problemsOf({
      ...ORDER_MODEL,
      fields: [
        ...fields,
        { name: "code", dataType: "Stext", primaryKey: true }, // a second primary key
        { name: "price", dataType: "Float" }, // no such type
        { name: "size", dataType: "Numeric", colour: "red" }, // unknown option
        { name: "body", dataType: "Ltext", unique: true }, // not indexable
        { name: "qtyy", dataType: "Numeric", maxLength: 3 }, // maxLength on a number
        { name: "ITEM", dataType: "Stext" }, // repeats "item" but for case
        { name: "n", dataType: "Numeric", default: "one" }, // default of the wrong type
        { name: "seq", dataType: "AutoInt" }, // AutoInt not the primary key
      ],
      unionUniqueList: [["userId", "nope"]],
    });
    const at = (pointer: string) => problems.filter((p) => p.pointer === pointer).map((p) => p.message);
    expect(problems.every((p) => p.file === FILE)).toBe(true);
    expect(at("/fields/6/primaryKey")).toEqual([expect.stringMatching(/a model has one primary key, and \/fields\/0 is one already/)]);
    expect(at("/fields/7/dataType")).toEqual([expect.stringMatching(/must be one of "AutoInt", "Stext"/)]);
    expect(at("/fields/8/colour")).toEqual([expect.stringMatching(/is not an allowed property/)]);
    expect(at("/fields/9/unique")).toEqual([expect.stringMatching(/Ltext cannot be indexed/)]);
    expect(at("/fields/10/maxLength")).toEqual([expect.stringMatching(/applies to Stext and Ltext only, not Numeric/)]);
    expect(at("/fields/11/name")).toEqual([expect.stringMatching(/repeats the field name of \/fields\/2/)]);
    expect(at("/fields/12/default")).toEqual([expect.stringMatching(/must be a whole number/)]);
    expect(at("/fields/13/dataType")).toEqual([expect.stringMatching(/AutoInt is only for the primary key/)]);
    expect(at("/unionUniqueList/0/1")).toEqual([expect.stringMatching(/names no declared field/)]);
    expect(problems[0]!.message).toContain(FILE);
  });

  it("needs fields and one primary key", async () => {
    expect((await problemsOf({ type: "models.NormalType", title: "x" })).map((p) => [p.pointer, p.message])).toEqual([["/fields", expect.stringMatching(/is required: a model declares its fields/)]]);
    expect((await problemsOf({ type: "models.NormalType", title: "x", fields: [{ name: "a", dataType: "Stext" }] })).map((p) => p.pointer)).toEqual(["/fields"]);
  });
});
