// Node entry: the Wasm module is read from the package and instantiated once, synchronously.
import { readFileSync } from 'node:fs';
import { initSync } from './buyerpath.js';

initSync({ module: readFileSync(new URL('./buyerpath_bg.wasm', import.meta.url)) });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
