import type { ConsoleTabs } from "jit-runtime/element";
import { simulatorTab } from "./simulator.ts";
import { usersTab } from "./users.ts";

/**
 * The login family's console tabs, bundled into the console's browser code with its shell
 * (scripts/consoleBuild.ts finds this module beside the family's Meta). Browser code: it
 * reaches the shell's helpers through the kit, never by import.
 */
const tabs: ConsoleTabs = (kit) => [simulatorTab(kit), usersTab(kit)];
export default tabs;
