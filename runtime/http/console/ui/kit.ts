import type { ConsoleUiKit } from "../../../family/consoleUi.ts";
import { createClient, createWxShim } from "../../../miniprogram/index.ts";
import { admin } from "./adminApi.ts";
import { h, json, replace, time } from "./dom.ts";

/** The shell's side of the kit a family's tabs get (the message line is added by the shell). */
export const uiKit: Omit<ConsoleUiKit, "say"> = { h, json, replace, time, admin, createClient, createWxShim };
