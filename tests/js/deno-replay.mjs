// Run by deno.test.mjs with Deno: replays every journey vector through the
// package's `deno` entry (or, with the argument `page`, `buyerpath/page`'s with
// the example playbook compiled ahead) and prints the results as JSON.
import { Engine as Compiler } from '../../pkg/deno.js';
import { Engine as PageEngine } from '../../pkg/page/deno.js';
import { replayAll, webSha256 } from './replay.mjs';

const root = new URL('../../', import.meta.url);
const playbook = await Deno.readTextFile(new URL('examples/acme/playbook.json', root));
const dir = new URL('tests/vectors/', root);
const names = [];
for await (const e of Deno.readDir(dir)) if (e.name.endsWith('.json')) names.push(e.name);
names.sort();
const vectors = [];
for (const n of names) vectors.push([n, JSON.parse(await Deno.readTextFile(new URL(n, dir)))]);
let Engine = Compiler;
if (Deno.args[0] === 'page') {
  const bytes = await Deno.readFile(new URL('target/example.bpe', root));
  Engine = function FromBytes() {
    return PageEngine.fromBytes(bytes);
  };
}
const results = await replayAll(Engine, playbook, vectors, webSha256);
console.log(JSON.stringify({ runtime: `deno ${Deno.version.deno}`, results }));
