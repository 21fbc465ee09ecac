// Deno entry: the Wasm file is read next to this module (npm: packages live on disk).
import { initSync } from './buyerpath.js';

initSync({ module: await Deno.readFile(new URL('./buyerpath_bg.wasm', import.meta.url)) });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
