// The Node entry's text crossings (pkg/node-text.js, installed in the glue's
// hook by scripts/glue-hooks.mjs): every text reads and writes exactly as
// TextDecoder and TextEncoder would, with characters of every width placed on
// the piece boundaries, and the engine's long texts go through them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePkg, pkgDir, playbookText } from './fixtures.mjs';

requirePkg();
const { nodeTextHooks, transcoderReady, MIN_TRANSCODE } = await import(`${pkgDir}/node-text.js`);
const { Engine } = await import(`${pkgDir}/node.js`);
const { __setTextHooks } = await import(`${pkgDir}/buyerpath.js`);
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

// One character of each UTF-8 width, a BOM and a line separator.
const WIDE = ['a', 'é', '–', '€', '\u2028', '\ufeff', '😀', '𝄞'];

/** A deterministic pseudo-random generator (xorshift32). */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Texts of 0 to 5,000 characters: ASCII runs, wide characters at random and at every offset around the 1 KB piece boundaries. */
function texts() {
  const out = ['', 'x'.repeat(255), 'x'.repeat(256), 'é'.repeat(300), '😀'.repeat(700)];
  for (const c of WIDE) {
    for (let at = 1010; at <= 1030; at++) out.push('a'.repeat(at) + c + 'b'.repeat(600) + c);
  }
  const r = rng(42);
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = Math.floor(r() * 5000);
    while (s.length < n) s += r() < 0.97 ? String.fromCharCode(32 + Math.floor(r() * 95)) : WIDE[Math.floor(r() * WIDE.length)];
    out.push(s);
  }
  return out;
}

test('reading Wasm memory gives what TextDecoder gives', () => {
  let hooked = 0;
  for (const s of texts()) {
    const bytes = encoder.encode(s);
    // At an odd offset of a larger memory, as the glue's views are.
    const memory = new Uint8Array(bytes.length + 64);
    memory.set(bytes, 7);
    const view = memory.subarray(7, 7 + bytes.length);
    const got = nodeTextHooks.decode(view);
    if (bytes.length < 256) {
      assert.equal(got, undefined, 'short texts keep the glue path');
      continue;
    }
    hooked++;
    assert.equal(got, decoder.decode(view), `a text of ${bytes.length} bytes`);
  }
  assert.ok(hooked > 250, `${hooked} texts read through the hook`);
});

/** Texts long enough for the transcoder (utf16.wasm), for its 16-unit blocks: a character of
 * each width, a pair split by a block boundary and lone surrogates at every offset of the first
 * blocks and at the very end; one-byte and two-byte strings. */
function blockTexts() {
  const out = [];
  const tail = 'b'.repeat(MIN_TRANSCODE);
  for (const c of [...WIDE, '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00\ud83d', '\u0080', '\u00ff', '\u07ff', '\u0800', '\uffff']) {
    for (let at = 0; at <= 48; at++) out.push('a'.repeat(at) + c + tail);
    out.push(tail + c);
  }
  out.push('a'.repeat(MIN_TRANSCODE), 'a'.repeat(MIN_TRANSCODE - 1) + '😀', 'x'.repeat(MIN_TRANSCODE + 17));
  return out;
}

test('Node compiles the transcoder (Wasm SIMD), so long strings go through it', () => {
  assert.equal(transcoderReady, true);
  assert.ok(MIN_TRANSCODE > 256 && MIN_TRANSCODE < 300_000, 'the playbook goes through it');
});

test('writing into Wasm memory gives what TextEncoder gives, lone surrogates included', () => {
  const cases = [...texts(), ...blockTexts(), 'a'.repeat(300) + '\ud800' + 'b'.repeat(10) + '\udfff', '\udc00'.repeat(400),
    // Longer than the transcoder's kept memory (8 MiB at 5 bytes a character): an instance of its own.
    'x–😀'.repeat(500_000), 'a'.repeat(300)];
  let hooked = 0;
  for (const s of cases) {
    // Memory grows on every allocation, as Wasm memory may: the old view is
    // then stale (filled with 0xEE here), and only a view taken after malloc sees the block.
    let heap = new Uint8Array(16);
    let top = 16;
    const sizes = new Map();
    const malloc = (n, align) => {
      assert.equal(align, 1);
      const p = top;
      top += n;
      const grown = new Uint8Array(top + 16);
      grown.set(heap.subarray(0, Math.min(heap.length, grown.length)));
      heap.fill(0xee);
      heap = grown;
      sizes.set(p, n);
      return p;
    };
    const realloc = (p, old, n, align) => {
      assert.equal(align, 1);
      assert.equal(sizes.get(p), old, 'realloc is given the size malloc was');
      assert.ok(n <= old, 'the room is only shrunk');
      sizes.set(p, n);
      return p;
    };
    const got = nodeTextHooks.encode(s, malloc, realloc, () => heap);
    if (s.length < 256) {
      assert.equal(got, undefined);
      continue;
    }
    hooked++;
    const [ptr, len] = got;
    assert.equal(sizes.get(ptr), len, 'the block is shrunk to the bytes written');
    assert.deepEqual(heap.subarray(ptr, ptr + len), encoder.encode(s), `a text of ${s.length} characters`);
  }
  assert.ok(hooked > 250, `${hooked} texts written through the hook`);
});

test('the package glue has the hook, and long texts cross it both ways', () => {
  assert.match(readFileSync(join(pkgDir, 'buyerpath.js'), 'utf8'), /export function __setTextHooks/);
  // A playbook whose content titles are long and wide: the playbook goes in
  // through the encoder, the decision (with the titles) comes out through the reader.
  const playbook = JSON.parse(playbookText);
  const title = (i) => `Ünïcödé – ${'€😀 '.repeat(20)}${i}`;
  playbook.content.forEach((c, i) => {
    c.title = title(i);
  });
  // The Node entry's hooks, counted: the long texts must go through them.
  const used = { decode: 0, encode: 0 };
  __setTextHooks({
    decode: (bytes) => {
      const text = nodeTextHooks.decode(bytes);
      if (text !== undefined) used.decode++;
      return text;
    },
    encode: (...args) => {
      const done = nodeTextHooks.encode(...args);
      if (done !== undefined) used.encode++;
      return done;
    },
  });
  let d;
  try {
    const engine = new Engine(JSON.stringify(playbook));
    const v = engine.visitor('v-text');
    d = JSON.parse(v.decideJson(JSON.stringify({ now: 1_793_610_000_000, slots: engine.slots, context: { consent: 'anonymous' } })));
  } finally {
    __setTextHooks(nodeTextHooks);
  }
  assert.ok(used.encode >= 1 && used.decode >= 1, `hooks used: ${JSON.stringify(used)}`);
  const picks = d.slots.flatMap((s) => s.picks);
  assert.ok(picks.length > 0, 'something was picked');
  const byId = new Map(playbook.content.map((c, i) => [c.id, title(i)]));
  for (const p of picks) assert.equal(p.title, byId.get(p.id));
});
