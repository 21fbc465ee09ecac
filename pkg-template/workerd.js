// Cloudflare Workers (workerd) entry: Workers forbid compiling Wasm from bytes at
// run time, so the module is imported (compiled at deploy time) and instantiated synchronously.
import wasm from './buyerpath_bg.wasm';
import { initSync } from './buyerpath.js';

initSync({ module: wasm });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
