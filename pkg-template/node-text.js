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
// Into Wasm: TextEncoder.encodeInto over the whole text, into room for three
// bytes a character, then shrunk: 0.2 µs for a 458-character request against
// 1.5 µs for the glue's per-character loop, and about half the time for a
// 300 KB playbook. Strings under 256 characters keep the glue's path.

import * as buffer from 'node:buffer';

const MIN_LENGTH = 256;
const PIECE = 1024;
const { latin1Slice, utf8Slice } = buffer.Buffer.prototype;
// The hook reads only where node:buffer has all three (isAscii since 18.15).
const isAscii =
  typeof buffer.isAscii === 'function' && typeof latin1Slice === 'function' && typeof utf8Slice === 'function'
    ? buffer.isAscii
    : null;
const encoder = new TextEncoder();

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
    const room = text.length * 3;
    const ptr = malloc(room, 1) >>> 0;
    const { written } = encoder.encodeInto(text, memory().subarray(ptr, ptr + room));
    return [realloc(ptr, room, written, 1) >>> 0, written];
  },
};
