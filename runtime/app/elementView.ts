import type { ElementDefine } from "../element/types.ts";

/**
 * What `jit show --json` prints of an element and the console shows: the resolved chain
 * with the layer of each link, the definitions it overrides, its functions, and the
 * effective config as given (callers pass it masked: App.getMaskedConfig).
 */
export function elementView(d: ElementDefine, maskedConfig: Record<string, unknown>) {
  const ref = (c: { fullName: string; layer: string; file: string }) => ({ fullName: c.fullName, layer: c.layer, file: c.file });
  return {
    fullName: d.fullName,
    kind: d.kind,
    type: d.type,
    title: d.title,
    accessModifier: d.accessModifier,
    layer: d.layer,
    file: d.file,
    chain: d.chain.map(ref),
    shadows: d.shadows.map(ref),
    functionList: d.functionList,
    config: maskedConfig,
  };
}
