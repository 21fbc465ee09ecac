// `buyerpath/page` in browsers and bundlers: fetches and compiles the page
// build's Wasm file next to this module (top-level await: importers wait
// until it is ready). No JSON playbook compiler: `Engine.fromBytes(bytes)`
// loads an engine compiled ahead by `buyerpath compile`.
import { loadWasm } from '../wasm-load.js';
import init, { Engine as PageEngine } from './buyerpath.js';
import { pageEngine } from './engine.js';

await loadWasm(init, new URL('./buyerpath_bg.wasm', import.meta.url), { entry: 'buyerpath/page', mark: 'engine_fromBytes', file: 'page/buyerpath_bg.wasm' });

export const Engine = pageEngine(PageEngine);
export { Visitor } from './buyerpath.js';
