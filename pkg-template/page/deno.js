// `buyerpath/page` in Deno: the page build's Wasm file read next to this module.
import { Engine as PageEngine, initSync } from './buyerpath.js';
import { pageEngine } from './engine.js';

initSync({ module: await Deno.readFile(new URL('./buyerpath_bg.wasm', import.meta.url)) });

export const Engine = pageEngine(PageEngine);
export { Visitor } from './buyerpath.js';
