// `buyerpath/page` in Cloudflare Workers (workerd): the page build's module
// imported (compiled at deploy time) and instantiated synchronously.
import wasm from './buyerpath_bg.wasm';
import { Engine as PageEngine, initSync } from './buyerpath.js';
import { pageEngine } from './engine.js';

initSync({ module: wasm });

export const Engine = pageEngine(PageEngine);
export { Visitor } from './buyerpath.js';
