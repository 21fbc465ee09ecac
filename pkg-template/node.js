// Node entry: the Wasm module is read from the package and instantiated once, synchronously.
// Servers get the build made for speed (`buyerpath_server_bg.wasm`, opt-level 3);
// browsers fetch the smaller `buyerpath_bg.wasm` (browser.js). The glue is the same.
import { readFileSync } from 'node:fs';
import { __setTextHooks, initSync } from './buyerpath.js';
import { nodeTextHooks } from './node-text.js';

initSync({ module: readFileSync(new URL('./buyerpath_server_bg.wasm', import.meta.url)) });
// Text into and out of Wasm through node:buffer and encodeInto (node-text.js).
__setTextHooks(nodeTextHooks);

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
