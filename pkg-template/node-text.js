// Node's fast text crossings for the glue's hook (scripts/glue-hooks.mjs).
//
// Out of Wasm: Node 20 turns UTF-8 with any non-ASCII character into a string
// slowly (~11 µs for the reference decision's 8 KB, which holds a few en
// dashes, by TextDecoder or Buffer alike) and ASCII quickly. So a long text is
// read in pieces of about 1 KB, each cut before a character's first byte:
// an ASCII piece (most of them) by node:buffer's one-byte copy, the others as
// UTF-8; ~4 µs in all (an all-ASCII text is read in one piece). Pieces of
// valid UTF-8 (what Rust's strings are) read alone give the same characters
// as the whole. Texts under 256 bytes, and a Node without buffer.isAscii
// (before 18.15), keep the glue's TextDecoder.
//
// Into Wasm: Node 20's TextEncoder.encodeInto is fast for a string V8 holds
// one byte a character (11.7 µs for 301 KB) and slow for a two-byte one (one
// en dash makes a string two-byte: 143 µs for the 301 KB playbook). A string
// of 4,096 characters or more (a playbook) is copied as UTF-16 into a small
// SIMD module of its own (utf16.wasm, from utf16.wat), turned into UTF-8
// there and copied into the engine's memory: 46 µs for the two-byte playbook
// (40 µs for a one-byte one, where encodeInto would take 12). A string of 256 to 4,095 characters (a request)
// takes one encodeInto into room for three bytes a character, then shrunk
// (0.1 µs for 512 one-byte characters, 0.33 µs two-byte; the transcoder
// takes 0.2 µs either way). Shorter strings keep the glue's path. Where the
// runtime cannot compile the module (no Wasm SIMD), encodeInto for all.

import * as buffer from 'node:buffer';
import { readFileSync } from 'node:fs';

const MIN_LENGTH = 256;
/** From this length on, strings go into Wasm through utf16.wasm (below it, encodeInto). */
export const MIN_TRANSCODE = 4096;
const PIECE = 1024;
const { latin1Slice, utf8Slice } = buffer.Buffer.prototype;
// The hook reads only where node:buffer has all three (isAscii since 18.15).
const isAscii =
  typeof buffer.isAscii === 'function' && typeof latin1Slice === 'function' && typeof utf8Slice === 'function'
    ? buffer.isAscii
    : null;
const encoder = new TextEncoder();
const { ucs2Write } = buffer.Buffer.prototype;

// The transcoder's compiled module; null where Wasm SIMD is missing. A
// missing file is an error (it ships with the package).
const utf16Bytes = readFileSync(new URL('./utf16.wasm', import.meta.url));
const utf16Module =
  typeof ucs2Write === 'function' && WebAssembly.validate(utf16Bytes) ? new WebAssembly.Module(utf16Bytes) : null;
// Memory the transcoder keeps between calls (it needs 5 bytes a character):
// a longer text gets an instance of its own, freed with it.
const KEEP = 8 << 20;
let kept = null;

/** A transcoder instance with at least `need` bytes of memory. */
function transcoder(need) {
  let t = kept;
  if (t === null || need > KEEP) {
    const { exports } = new WebAssembly.Instance(utf16Module);
    t = { transcode: exports.transcode, memory: exports.memory, bytes: null };
    if (need <= KEEP) kept = t;
  }
  const have = t.memory.buffer.byteLength;
  if (need > have) t.memory.grow(Math.ceil((need - have) / 65536));
  if (t.bytes === null || t.bytes.buffer !== t.memory.buffer) t.bytes = buffer.Buffer.from(t.memory.buffer);
  return t;
}

/** `text` as UTF-8 in a block of the engine's memory: [pointer, length]. */
function encodeThroughUtf16(text, malloc, realloc, memory) {
  const units = text.length;
  // UTF-16 from 0, UTF-8 from the next 16-byte boundary on (at most 3 bytes a unit).
  const out = Math.ceil((2 * units) / 16) * 16;
  // Room for three bytes a unit, then shrunk, as the encodeInto path does:
  // allocating the exact length instead made compiling the 500-item playbook
  // ~70 µs slower in the engine's own frees afterwards (dlmalloc: where the
  // block sits decides how later blocks merge). Allocated first, so nothing
  // runs between the transcoding and the copy.
  const room = 3 * units;
  const ptr = malloc(room, 1) >>> 0;
  const t = transcoder(out + room);
  ucs2Write.call(t.bytes, text, 0);
  const len = t.transcode(2 * units, out);
  memory().set(t.bytes.subarray(out, out + len), ptr);
  return [realloc(ptr, room, len, 1) >>> 0, len];
}

/** Whether long strings go into Wasm through utf16.wasm (false: TextEncoder.encodeInto). */
export const transcoderReady = utf16Module !== null;

/** `bytes` (valid UTF-8) as a string, piece by piece; undefined if no cut point is found. */
function readPieces(bytes) {
  const n = bytes.length;
  let text = '';
  let at = 0;
  while (at < n) {
    let end = Math.min(at + PIECE, n);
    // Back to the first byte of a character (continuation bytes are 10xxxxxx).
    while (end < n && end > at && (bytes[end] & 0xc0) === 0x80) end--;
    if (end === at) return undefined;
    const piece = bytes.subarray(at, end);
    text += isAscii(piece) ? latin1Slice.call(piece, 0, piece.length) : utf8Slice.call(piece, 0, piece.length);
    at = end;
  }
  return text;
}

export const nodeTextHooks = {
  decode(bytes) {
    if (isAscii === null || bytes.length < MIN_LENGTH) return undefined;
    return isAscii(bytes) ? latin1Slice.call(bytes, 0, bytes.length) : readPieces(bytes);
  },
  encode(text, malloc, realloc, memory) {
    if (text.length < MIN_LENGTH) return undefined;
    if (utf16Module !== null && text.length >= MIN_TRANSCODE) return encodeThroughUtf16(text, malloc, realloc, memory);
    const room = text.length * 3;
    const ptr = malloc(room, 1) >>> 0;
    const { written } = encoder.encodeInto(text, memory().subarray(ptr, ptr + room));
    return [realloc(ptr, room, written, 1) >>> 0, written];
  },
};
