import type { Command } from "commander";
import type { CliKit } from "../kit.ts";
import * as elements from "./elements.ts";
import * as show from "./show.ts";
import * as validate from "./validate.ts";
import * as call from "./call.ts";
import * as wechatFake from "./wechat-fake.ts";
import * as serve from "./serve.ts";
import * as dev from "./dev.ts";
import * as init from "./init.ts";
import * as migrate from "./migrate.ts";
import * as types from "./types.ts";

/** Every `jit` sub-command. Each module registers itself on the program. */
export const commands: Array<{ register(program: Command, kit: CliKit): void }> = [
  elements,
  show,
  validate,
  call,
  wechatFake,
  serve,
  dev,
  init,
  migrate,
  types,
];
