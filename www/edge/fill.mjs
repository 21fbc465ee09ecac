// Fills a page's slots and appends to its <head> in one pass over the bytes,
// without HTMLRewriter, when the page's markup lets that be done exactly:
// the result is byte for byte what the worker's HTMLRewriter gives (tests/edge
// compares the two on every page of the site and on tricky markup). On
// anything else it returns null and the worker streams the page through
// HTMLRewriter as before.
//
// What it takes (else null):
//   - slot elements (`data-bp-slot="id"`) that are one of CONTAINERS, written
//     as `<tag name="value" bare>` (names of [A-Za-z0-9_:.-], values in
//     double quotes of printable ASCII, one space between attributes: then
//     rewriting the start tag is exact), not
//     nested in one another, with well-nested content (every element in it
//     closed by its own end tag: where the slot ends is then certain) and
//     closed by their own end tag;
//   - a <head> closed by </head>;
//   - no `data-bp-slot` in a comment or raw text (script, style...), which
//     are closed, and no <plaintext>;
//   - in <svg> and <math> (foreign content), no CDATA, no raw-text names, no
//     head, no slot and no HTML tag that would end it early.
//
// The page is read as bytes (never decoded: markup is ASCII), and what is
// written goes in as UTF-8.

/** Elements a slot may be (no implied end tags, not void, not raw text). */
const CONTAINERS = ['div', 'section', 'aside', 'article', 'nav', 'main', 'header', 'footer', 'span', 'ul', 'ol'];
/** Elements whose content is text up to their end tag (the tokenizer skips it). */
const RAW_TEXT = ['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript'];
/** Elements without content or end tag. */
const VOID = ['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr'];
const SLOT_ATTR = 'data-bp-slot';
const [LT, GT, SLASH, BANG, QMARK, EQ, DQ, SQ, DASH] = [...'<>/!?="\'-'].map((c) => c.charCodeAt(0));

const utf8 = new TextEncoder();
const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));
const SLOT_BYTES = ascii(SLOT_ATTR);
const COMMENT_END = ascii('-->');
const COMMENT_BANG_END = ascii('--!>');
const SCRIPT_ESCAPE = ascii('<!--');

const isSpace = (c) => c === 32 || c === 10 || c === 9 || c === 12 || c === 13;
const isAlpha = (c) => (c | 32) >= 97 && (c | 32) <= 122;
const lower = (c) => (c >= 65 && c <= 90 ? c | 32 : c);

/** Foreign content: inside it, raw-text names and CDATA read otherwise. */
const FOREIGN = ['svg', 'math'];
/** HTML start tags that end foreign content (the HTML parser's breakout list). */
const BREAKOUT = ['b', 'big', 'blockquote', 'body', 'br', 'center', 'code', 'dd', 'div', 'dl', 'dt', 'em', 'embed', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'hr', 'i', 'img', 'li', 'listing', 'menu', 'meta', 'nobr', 'ol', 'p', 'pre', 'ruby', 's', 'small', 'span', 'strong', 'strike', 'sub', 'sup', 'table', 'tt', 'u', 'ul', 'var', 'font'];

// Tag names the pass tells apart, found by their length and first letter,
// then compared byte by byte: no string is made for a tag. Each has the
// flags of the lists it is in.
const KNOWN = Array.from({ length: 11 * 32 }, () => []); // names of up to 10 letters
for (const [names, flag] of [[RAW_TEXT, 'raw'], [['head'], 'head'], [['plaintext'], 'plaintext'], [VOID, 'void'], [CONTAINERS, 'container'], [FOREIGN, 'foreign'], [BREAKOUT, 'breakout']]) {
  for (const name of names) {
    const row = KNOWN[name.length * 32 + (name.charCodeAt(0) & 31)];
    let k = row.find((x) => x.name === name);
    if (!k) row.push((k = { name, bytes: ascii(name) }));
    k[flag] = true;
  }
}
/** The known tag named by bytes `from`..`to` ({ name, bytes, and its flags }), or null. */
function known(b, from, to) {
  const len = to - from;
  if (len > 10) return null;
  next: for (const k of KNOWN[len * 32 + (b[from] & 31)]) {
    for (let i = 0; i < len; i++) if (lower(b[from + i]) !== k.bytes[i]) continue next;
    return k;
  }
  return null;
}

/** The bytes `from`..`to` as text, one character a byte (markup is ASCII). */
function text(b, from, to) {
  return String.fromCharCode.apply(null, b.subarray(from, to));
}

/** Whether `from`..`to` and `from2`..`to2` hold the same name, ignoring ASCII case. */
function sameName(b, from, to, from2, to2) {
  if (to - from !== to2 - from2) return false;
  for (let i = 0; i < to - from; i++) if (lower(b[from + i]) !== lower(b[from2 + i])) return false;
  return true;
}

/** The first `needle` (lower-case ASCII codes) from `from`, ending by `to`, ignoring ASCII case; -1 if none. */
function find(b, needle, from, to = b.length) {
  const last = Math.min(to, b.length) - needle.length;
  const first = needle[0];
  next: for (let i = from; i <= last; i++) {
    if (lower(b[i]) !== first) continue;
    for (let k = 1; k < needle.length; k++) if (lower(b[i + k]) !== needle[k]) continue next;
    return i;
  }
  return -1;
}

/**
 * The tag at `lt` (the `<`, then a letter or `/` and a letter), read into
 * `t` (reused: no allocation for a tag): its name's bytes, where it ends
 * (after its `>`), whether it closes or self-closes, and its
 * `data-bp-slot` attribute's value (-1: none; -2: without a value). Also
 * whether every attribute is `name` or `name="value"` with single spaces
 * (`simple`). False when the tag does not end (the page is not read here).
 */
function readTag(b, lt, t) {
  const n = b.length;
  t.closing = b[lt + 1] === SLASH;
  let i = lt + (t.closing ? 2 : 1);
  t.nameFrom = i;
  while (i < n && !isSpace(b[i]) && b[i] !== SLASH && b[i] !== GT) i++;
  t.nameTo = i;
  t.selfClosing = false;
  t.slotFrom = -1;
  t.slotTo = -1;
  t.simple = true;
  t.attrs = 0;
  for (;;) {
    const gap = i;
    while (i < n && isSpace(b[i])) i++;
    if (i >= n) return false;
    if (b[i] === GT) {
      if (i !== gap) t.simple = false; // space before `>`
      t.end = i + 1;
      return true;
    }
    if (b[i] === SLASH) {
      i++;
      t.selfClosing = b[i] === GT;
      t.simple = false;
      continue;
    }
    if (i - gap !== 1 || b[gap] !== 32) t.simple = false;
    const from = i;
    i++; // an attribute name may start with `=`
    while (i < n && !isSpace(b[i]) && b[i] !== SLASH && b[i] !== GT && b[i] !== EQ) i++;
    const to = i;
    const isSlot = to - from === SLOT_BYTES.length && find(b, SLOT_BYTES, from, to) === from;
    t.attrs++;
    let j = i;
    while (j < n && isSpace(b[j])) j++;
    if (b[j] !== EQ) {
      if (isSlot && t.slotFrom === -1) t.slotFrom = -2;
      continue;
    }
    if (j !== i) t.simple = false;
    j++;
    if (isSpace(b[j])) t.simple = false;
    while (j < n && isSpace(b[j])) j++;
    const q = b[j];
    let vFrom;
    let vTo;
    if (q === DQ || q === SQ) {
      let close = j + 1;
      while (close < n && b[close] !== q) close++;
      if (close >= n) return false;
      if (q === SQ) t.simple = false;
      vFrom = j + 1;
      vTo = close;
      i = close + 1;
    } else {
      t.simple = false;
      vFrom = j;
      while (j < n && !isSpace(b[j]) && b[j] !== GT) j++;
      vTo = j;
      i = j;
    }
    if (isSlot && t.slotFrom === -1) {
      t.slotFrom = vFrom;
      t.slotTo = vTo;
    }
  }
}

const NAME_BYTE = (c) => isAlpha(c) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 58 || c === 46; // [A-Za-z0-9_:.-]

/**
 * A slot's start tag (`<name a="v" b>`) as [name, value | null] pairs, read
 * strictly: one space before each attribute, names of [A-Za-z0-9_:.-],
 * values in double quotes of printable ASCII; null for anything else.
 */
function attributesOf(b, nameTo, end) {
  const attrs = [];
  let i = nameTo;
  while (i < end - 1) {
    if (b[i] !== 32) return null;
    const from = ++i;
    while (i < end && NAME_BYTE(b[i])) i++;
    if (i === from) return null;
    const name = text(b, from, i);
    if (b[i] === EQ) {
      if (b[i + 1] !== DQ) return null;
      const v = i + 2;
      i = v;
      while (i < end && b[i] !== DQ) {
        if (b[i] < 32 || b[i] > 126) return null;
        i++;
      }
      if (i >= end) return null;
      attrs.push([name, text(b, v, i)]);
      i++;
    } else {
      attrs.push([name, null]);
    }
  }
  return i === end - 1 && b[i] === GT ? attrs : null;
}

/** A slot's start tag with `edits` set, as HTMLRewriter writes a changed one. */
function rewriteStart(name, attrs, edits) {
  const out = attrs.map((a) => [...a]);
  for (const [n, v] of edits) {
    const at = out.find((a) => a[0].toLowerCase() === n.toLowerCase());
    if (at) at[1] = v;
    else out.push([n, v]);
  }
  let tag = `<${name}`;
  for (const [n, v] of out) tag += v === null ? ` ${n}` : ` ${n}="${v.replace(/"/g, '&quot;')}"`;
  return `${tag}>`;
}

/** Where the raw text of `k` (a known element) that starts at `from` ends (its end tag's `<`), or -1. */
function rawTextEnd(b, k, from) {
  const close = [LT, SLASH, ...k.bytes];
  for (let i = find(b, close, from); i >= 0; i = find(b, close, i + 1)) {
    const c = b[i + close.length];
    if (c === undefined || c === GT || c === SLASH || isSpace(c)) return i;
  }
  return -1;
}

/**
 * Where a page's slots and head end are, for `renderPage`: { bytes, marks },
 * each mark `{ at, head: true }` (the head's end tag) or `{ at, to, id,
 * name, attrs }` (a slot from its start tag to its end tag); null when the
 * markup is not one this pass reads exactly. A page's template serves every
 * request for it (the worker keeps them per isolate).
 * @param {Uint8Array} b the page
 */
export function compilePage(b) {
  const n = b.length;
  const marks = []; // in order, not overlapping
  const t = {};
  let slot = null; // the slot being read: { nameFrom, nameTo, mark, stack: [from, to] of the elements open in it }
  let foreign = null; // inside <svg> or <math>: { nameFrom, nameTo, depth }
  let headOpen = false;
  let heads = 0;
  // A skipped region (comment, raw text) must not hide a slot.
  const hides = (from, to) => find(b, SLOT_BYTES, from, to) >= 0;
  let i = 0;
  for (;;) {
    while (i < n && b[i] !== LT) i++;
    if (i >= n) break;
    const lt = i;
    const next = b[lt + 1];
    if (next === BANG) {
      if (b[lt + 2] === DASH && b[lt + 3] === DASH) {
        // `<!-->` and `<!--->` end at once; `--!>` ends a comment too: not read here.
        if (b[lt + 4] === GT || (b[lt + 4] === DASH && b[lt + 5] === GT)) return null;
        const end = find(b, COMMENT_END, lt + 4);
        if (end < 0 || find(b, COMMENT_BANG_END, lt + 4, end + 3) >= 0 || hides(lt, end)) return null;
        i = end + 3;
        continue;
      }
      // In foreign content `<![CDATA[` is text up to `]]>`: not read here.
      if (foreign) return null;
    }
    if (next === BANG || next === QMARK) {
      // A doctype or a bogus comment: up to the next `>`.
      const end = b.indexOf(GT, lt);
      if (end < 0 || hides(lt, end)) return null;
      i = end + 1;
      continue;
    }
    if (next === SLASH ? !isAlpha(b[lt + 2]) : !isAlpha(next)) {
      if (next === SLASH) return null; // `</>` or `</1`: a bogus comment, not read here
      i = lt + 1; // a `<` in text
      continue;
    }
    if (!readTag(b, lt, t)) return null;
    i = t.end;
    const k = known(b, t.nameFrom, t.nameTo);
    if (foreign) {
      // Inside svg/math, raw-text names are ordinary elements and some HTML
      // tags break out of it: none of that is read here.
      // (An SVG <title> is ordinary markup: read as any element.)
      if (t.slotFrom !== -1 || (k && ((k.raw && k.name !== 'title') || k.head || k.plaintext || (k.breakout && !t.closing)))) return null;
      if (sameName(b, foreign.nameFrom, foreign.nameTo, t.nameFrom, t.nameTo)) {
        if (t.closing) {
          if (foreign.depth === 0) foreign = null;
          else foreign.depth--;
        } else if (!t.selfClosing) foreign.depth++;
      }
    } else if (!t.closing && k && k.foreign && !t.selfClosing) {
      foreign = { nameFrom: t.nameFrom, nameTo: t.nameTo, depth: 0 };
    }
    if (t.closing) {
      if (slot) {
        if (slot.stack.length > 0) {
          const [from, to] = slot.stack.pop();
          if (!sameName(b, from, to, t.nameFrom, t.nameTo)) return null; // not well nested
          continue;
        }
        if (!sameName(b, slot.nameFrom, slot.nameTo, t.nameFrom, t.nameTo)) return null;
        slot.mark.to = lt;
        marks.push(slot.mark);
        slot = null;
        continue;
      }
      if (k && k.head && headOpen) {
        marks.push({ at: lt, head: true });
        headOpen = false;
        heads++;
      }
      continue;
    }
    if (k && k.plaintext) return null;
    if (k && k.raw && !foreign) {
      // A slot on a raw-text element is not read here either.
      if (t.slotFrom !== -1) return null;
      const end = rawTextEnd(b, k, t.end);
      if (end < 0 || hides(t.end, end)) return null;
      // Script data has escape states (`<!--` ... `<script`) that move its end.
      if (k.name === 'script' && find(b, SCRIPT_ESCAPE, t.end, end) >= 0) return null;
      if (!readTag(b, end, t)) return null;
      i = t.end;
      continue;
    }
    if (slot) {
      if (t.slotFrom !== -1 || (k && k.head)) return null; // a slot (or a head) inside a slot
      if (k && k.void) continue;
      if (t.selfClosing) {
        if (foreign) continue; // `<path/>`: no content, no end tag
        return null; // `<x/>` in HTML: a start tag, its end tag somewhere
      }
      slot.stack.push([t.nameFrom, t.nameTo]);
      continue;
    }
    if (k && k.head) {
      if (headOpen) return null;
      headOpen = true;
    }
    if (t.slotFrom === -1) continue;
    // A slot: exact only for simple markup (rewritten, it reads the same).
    if (!k || !k.container || !t.simple || t.slotFrom < 0) return null;
    const attrs = attributesOf(b, t.nameTo, t.end);
    if (!attrs) return null;
    const id = text(b, t.slotFrom, t.slotTo);
    if (id.includes('&')) return null;
    slot = {
      nameFrom: t.nameFrom,
      nameTo: t.nameTo,
      mark: { at: lt, to: -1, id, name: text(b, t.nameFrom, t.nameTo), attrs },
      stack: [],
    };
  }
  if (slot || foreign || headOpen || heads === 0) return null;
  return { bytes: b, marks };
}

/**
 * A compiled page with its slots filled and `headHtml` appended to its
 * head, as bytes.
 * @param {{ bytes: Uint8Array, marks: object[] }} page from `compilePage`
 * @param {(slotId: string) => ({ html: string, attrs: [string, string][] } | null)} slotEdit
 *   what a slot becomes: its inner HTML and the attributes set on it, in
 *   order (null: left as it is)
 * @param {string} headHtml appended to the head's content
 */
export function renderPage(page, slotEdit, headHtml) {
  const b = page.bytes;
  const parts = [];
  let at = 0;
  let length = 0;
  const keep = (to) => {
    const kept = b.subarray(at, to);
    parts.push(kept);
    length += kept.length;
  };
  const add = (html) => {
    const bytes = utf8.encode(html);
    parts.push(bytes);
    length += bytes.length;
  };
  for (const m of page.marks) {
    if (m.head) {
      keep(m.at);
      add(headHtml);
      at = m.at;
      continue;
    }
    const edit = slotEdit(m.id);
    if (!edit) continue;
    keep(m.at);
    add(rewriteStart(m.name, m.attrs, edit.attrs) + edit.html);
    at = m.to;
  }
  keep(b.length);
  const out = new Uint8Array(length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** `compilePage` then `renderPage`: the filled page, or null (see compilePage). */
export function fillPage(b, slotEdit, headHtml) {
  const page = compilePage(b);
  return page && renderPage(page, slotEdit, headHtml);
}

/**
 * The same edits by HTMLRewriter (workerd's streaming HTML rewriter): what
 * the worker uses when `fillPage` returns null, and what it is tested against.
 */
export function slotRewriter(slotEdit, headHtml) {
  return intoHead(new HTMLRewriter(), headHtml).on('[data-bp-slot]', {
    element(el) {
      const edit = slotEdit(el.getAttribute('data-bp-slot'));
      if (!edit) return;
      el.setInnerContent(edit.html, { html: true });
      for (const [name, value] of edit.attrs) el.setAttribute(name, value);
    },
  });
}

/** Start tags the HTML parser keeps in the head ("in head"). */
const IN_HEAD = new Set(['base', 'basefont', 'bgsound', 'link', 'meta', 'title', 'noscript', 'noframes', 'style', 'script', 'template']);

/**
 * `rewriter` adding `html` at the end of the page's `<head>`, or at the start
 * of its `<body>` when the markup has no `<head>` tag (valid HTML: the head
 * is implied, and HTMLRewriter sees no element for it). With neither tag, it
 * goes where the implied head ends: before the first element in `<html>`
 * that is not head content (after `<meta charset>`, `<title>`...), else
 * before `</html>`; the parser puts it in the head there too. Without even
 * `<html>`, at the end. (Selectors only: no handler runs for every element.)
 */
export function intoHead(rewriter, html) {
  let done = false;
  const put = (at, how) => {
    if (done) return;
    done = true;
    at[how](html, { html: true });
  };
  return rewriter
    .on('head', { element: (el) => put(el, 'append') })
    .on('body', { element: (el) => put(el, 'prepend') })
    .on('html', { element: (el) => !done && el.onEndTag((end) => put(end, 'before')) })
    .on('html > *', {
      element(el) {
        if (!done && !IN_HEAD.has(el.tagName) && el.tagName !== 'head' && el.tagName !== 'body') put(el, 'before');
      },
    })
    .onDocument({ end: (end) => put(end, 'append') });
}

/**
 * The body of a response or request whole (`{ bytes }`) when it is at most `max` bytes; else
 * `{ stream }`, the same body still to stream (what was read, then the rest).
 */
export async function readUpTo(response, max) {
  const length = Number(response.headers.get('Content-Length'));
  if (length > 0 && length <= max) return { bytes: new Uint8Array(await response.arrayBuffer()) };
  if (length > max) return { stream: response.body };
  if (!response.body) return { bytes: new Uint8Array(0) };
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > max) {
      const stream = new ReadableStream({
        start(c) {
          for (const chunk of chunks) c.enqueue(chunk);
        },
        async pull(c) {
          const next = await reader.read();
          if (next.done) c.close();
          else c.enqueue(next.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return { stream };
    }
  }
  // A chunk may be a view of a larger buffer: kept (cached), it would keep all of it.
  if (chunks.length === 1) return { bytes: chunks[0].byteLength === chunks[0].buffer.byteLength ? chunks[0] : chunks[0].slice() };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return { bytes };
}
