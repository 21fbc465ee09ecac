// Cloudflare Workers (workerd) entry: Workers forbid compiling Wasm from bytes at
// run time, so the module is imported (compiled at deploy time) and instantiated synchronously.
// The build made for speed (a worker pays for CPU); a page's worker that loads
// engines compiled ahead uses `buyerpath/page` instead.
import wasm from './buyerpath_server_bg.wasm';
import { initSync } from './buyerpath.js';

initSync({ module: wasm });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
