// `buyerpath/page` in Node: the page build's module (no JSON playbook
// compiler) read from the package and instantiated once, synchronously.
import { readFileSync } from 'node:fs';
import { Engine as PageEngine, __setTextHooks, initSync } from './buyerpath.js';
import { nodeTextHooks } from '../node-text.js';
import { pageEngine } from './engine.js';

initSync({ module: readFileSync(new URL('./buyerpath_bg.wasm', import.meta.url)) });
__setTextHooks(nodeTextHooks);

export const Engine = pageEngine(PageEngine);
export { Visitor } from './buyerpath.js';
