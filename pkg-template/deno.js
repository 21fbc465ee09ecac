// Deno entry: the Wasm file is read next to this module (npm: packages live on disk);
// the build made for speed, as in node.js.
import { initSync } from './buyerpath.js';

initSync({ module: await Deno.readFile(new URL('./buyerpath_server_bg.wasm', import.meta.url)) });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
