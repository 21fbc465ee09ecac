// The edge worker's one-pass slot filling (www/edge/fill.mjs) against
// workerd's HTMLRewriter, in workerd through miniflare:
//   - on every HTML page of the built site, with every slot edited (text
//     with non-ASCII characters, attribute values with quotes), the one pass
//     applies and gives byte for byte what HTMLRewriter gives;
//   - on markup it cannot read exactly (a slot in single quotes, a slot
//     inside a slot, a mention in a script, content not well nested, no
//     </head>, a slot in a comment...) it declines (null: the worker streams through HTMLRewriter);
//   - on markup it reads, whatever it returns equals HTMLRewriter's;
//   - a page is read whole up to the cap, and past it streams on unchanged.
//   - HTMLRewriter puts the inline data in a page with neither <head> nor
//     <body> tag where its implied head ends.
// Requires: node scripts/build-www.mjs (the site in www/dist).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { siteDist } from '../../www/edge/dev.mjs';

const root = join(siteDist, '..', '..');
if (!existsSync(join(siteDist, 'index.html'))) throw new Error('www/dist is missing: run node scripts/build-www.mjs (./dev test does it)');

let mf;
before(async () => {
  mf = new Miniflare({
    modulesRoot: root,
    modules: [
      { type: 'ESModule', path: join(root, 'tests', 'edge', 'fill-worker.mjs') },
      { type: 'ESModule', path: join(root, 'www', 'edge', 'fill.mjs') },
    ],
    compatibilityDate: '2026-04-01',
  });
});
after(async () => {
  await mf?.dispose();
});

async function both(html, edits, head = '<script type="application/json" id="bp-edge">{"a":"\\u003c/script>"}</script>') {
  const res = await mf.dispatchFetch('http://fill.test/', { method: 'POST', body: JSON.stringify({ html, edits, head }) });
  assert.equal(res.status, 200);
  return res.json();
}

const edit = (id) => ({
  html: `<ul class="bp-picks"><li class="bp-pick"><a href="/x/${id}"><span class="bp-title">“${id}” – Überblick &amp; more</span></a></li></ul>`,
  attrs: [
    ['data-bp-rendered', `${id}-a ${id}-b "quoted" & <lt>`],
    ['data-bp-default', 'false'],
    ['data-bp-by', 'edge'],
  ],
});

function pages(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...pages(p));
    else if (e.name.endsWith('.html')) out.push(p);
  }
  return out;
}

test('on every page of the site, the one pass gives byte for byte what HTMLRewriter gives', async () => {
  const files = pages(siteDist);
  assert.ok(files.length >= 20, `${files.length} pages`);
  let slots = 0;
  for (const file of files) {
    const html = readFileSync(file, 'utf8');
    const ids = [...html.matchAll(/data-bp-slot="([^"]+)"/g)].map((m) => m[1]);
    slots += ids.length;
    const edits = Object.fromEntries(ids.map((id) => [id, edit(id)]));
    const r = await both(html, edits);
    assert.notEqual(r.direct, null, `${file}: the one pass applies`);
    assert.equal(r.direct, r.rewritten, file);
    for (const id of ids) assert.ok(r.direct.includes(`“${id}” – Überblick`), `${file}: slot ${id} filled`);
    assert.ok(r.direct.includes('id="bp-edge"'));
    // A slot left as it is (no picks) stays as built.
    if (ids.length > 1) {
      const some = await both(html, { [ids[0]]: edit(ids[0]) });
      assert.equal(some.direct, some.rewritten, `${file}: one slot of ${ids.length}`);
    }
  }
  assert.ok(slots >= 40, `${slots} slots`);
});

const page = (body, head = '<title>t &lt; u</title><script type="module" src="/js/demo.mjs"></script>') => `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">${head}</head>\n<body>${body}</body></html>\n`;
const slot = (id, inner = '<p>default</p>', attrs = '') => `<div class="slot" data-bp-slot="${id}"${attrs}>${inner}</div>`;

test('markup it reads exactly: filled as HTMLRewriter fills it', async () => {
  const cases = {
    'nested divs and a void element': page(slot('a', '<div><div><img src="x.png" alt="x"><br></div></div><hr>')),
    'a comment mentioning </div> in the slot': page(slot('a', '<!-- </div> --><span>x</span>')),
    'a script before the slot with < and </div> in it': page(`<script>if (1 < 2) document.write("</div>")</script>${slot('a')}`),
    'an upper-case tag and attribute name': page('<DIV class="x" data-bp-slot="a" Data-Bp-Default="true">x</DIV>'),
    'existing attributes set again, new ones appended': page(slot('a', 'x', ' data-bp-rendered="old" hidden data-bp-default="true"')),
    'a slot not edited and one edited': page(slot('a') + slot('b') + slot('c')),
    'text with < and a table in the slot': page(slot('a', '<table><tr><td>1 < 2</td></tr></table>')),
    'non-ASCII text around the slot': page(`<p>Ünïcödé – “quotes” €</p>${slot('a', '<p>Größe</p>')}<p>ß</p>`),
    'a slot in a section of the same name nested': page(`<section data-bp-slot="a"><section><section>x</section></section></section>`),
    'a raw-text element (textarea) in the slot': page(slot('a', '<textarea><div data-x></textarea>')),
    "the attribute's name in text and in another attribute": page(`<p title="data-bp-slot">data-bp-slot</p>${slot('a')}`),
    'an attribute set twice on the slot (the first is changed)': page(slot('a', 'x', ' data-bp-rendered="1" data-bp-rendered="2"')),
    'inline SVG with self-closing children in the slot': page(slot('a', '<svg viewBox="0 0 1 1"><path d="M0 0"/><g><circle r="1"/></g></svg>')),
    'inline SVG outside the slots (a logo)': page(`<svg class="logo" viewBox="0 0 32 32"><title>Logo</title><path d="M0 0"/></svg>${slot('a')}`),
  };
  for (const [name, html] of Object.entries(cases)) {
    const r = await both(html, { a: edit('a'), c: edit('c') });
    assert.notEqual(r.direct, null, `${name}: the one pass applies`);
    assert.equal(r.direct, r.rewritten, name);
  }
});

test('markup it cannot read exactly: it declines, and the worker uses HTMLRewriter', async () => {
  const cases = {
    'single quotes': page(`<div data-bp-slot='a'>x</div>`),
    'unquoted value': page('<div data-bp-slot=a>x</div>'),
    'two spaces between attributes': page('<div class="s"  data-bp-slot="a">x</div>'),
    'a self-closing slot': page('<div data-bp-slot="a"/>after'),
    'a slot inside a slot': page(slot('a', slot('b'))),
    'a mention in a script': page(`<script>const s = '[data-bp-slot]';</script>${slot('a')}`),
    'a slot inside a comment': page(`<!-- ${slot('b')} -->${slot('a')}`),
    'content not well nested': page(slot('a', '<span><div></span></div>')),
    'an unclosed paragraph in the slot': page(slot('a', '<p>one<p>two')),
    'a p slot': page('<p data-bp-slot="a">x</p>'),
    'no </head>': '<html><head><title>t</title><body>' + slot('a') + '</body></html>',
    'no head at all': '<html><body>' + slot('a') + '</body></html>',
    'an unclosed comment': page(slot('a')) + '<!-- x',
    'a non-ASCII attribute value on the slot': page(slot('a', 'x', ' title="Größe"')),
    'an entity in the slot id': page('<div data-bp-slot="a&amp;b">x</div>'),
    'a slot never closed': page('<div data-bp-slot="a"><span>x</span>'),
    'a script with an escape (<!--) before the slot': page(`<script><!-- document.write("<script>") --></script>${slot('a')}`),
    'plaintext': page(`<plaintext>${slot('a')}`),
    'an attribute name starting with =': page('<div ="x" data-bp-slot="a">x</div>'),
    'a quote in an attribute name': page('<div a"b data-bp-slot="a">x</div>'),
    'a control character in the slot id': page('<div data-bp-slot="a\u0000">x</div>'),
    'a slot on a raw-text element': page('<textarea data-bp-slot="a">x</textarea>'),
    'a slot on a script': page('<script data-bp-slot="a">x</script>'),
    'CDATA in SVG before a slot': page(`<svg><![CDATA[ > ${slot('b')} ]]></svg>${slot('a')}`),
    'a raw-text name in SVG (markup there)': page(`<svg><style></style></svg>${slot('a')}`),
    'SVG in a slot with a title holding an end tag': page(slot('a', '<svg><title></div></title></svg>')),
    'an HTML tag breaking out of SVG': page(`<svg><p>x</p></svg>${slot('a')}`),
    'SVG never closed': page(`${slot('a')}<svg><g>`),
  };
  for (const [name, html] of Object.entries(cases)) {
    const r = await both(html, { a: edit('a'), b: edit('b') });
    assert.equal(r.direct, null, `${name}: declined`);
    assert.ok(r.rewritten.length > 0);
  }
});

test('a page is read whole up to the cap; past it, it streams on unchanged', async () => {
  const expected = (chunks, size) => Array.from({ length: chunks }, (_, k) => String.fromCharCode(97 + (k % 26)).repeat(size)).join('');
  for (const [chunks, size, max, whole, declared] of [
    [3, 1000, 4000, true],
    [4, 1000, 4000, true],
    [5, 1000, 4000, false],
    [40, 50_000, 1024 * 1024, false],
    [0, 0, 100, true],
    // A declared length: read whole under the cap, streamed over it.
    [3, 1000, 2000, false, 3000],
    [3, 1000, 4000, true, 3000],
  ]) {
    const res = await mf.dispatchFetch(`http://fill.test/read?chunks=${chunks}&size=${size}&max=${max}${declared ? `&declared=${declared}` : ''}`);
    const r = await res.json();
    assert.equal(r.whole, whole, `${chunks} × ${size} B, cap ${max}`);
    assert.equal(r.length, chunks * size);
    assert.equal(r.text, expected(chunks, size), 'the same bytes, in order');
  }
});

test('a page with neither <head> nor <body> tag gets the inline data where its implied head ends (before </html> at the latest); with either, as before', async () => {
  const H = '<script type="application/json" id="bp-edge">{}</script>';
  const cases = {
    'a title, then content': ['<!doctype html><html><title>t</title><div data-bp-slot="a">x</div></html>', `<!doctype html><html><title>t</title>${H}<div data-bp-slot="a">x</div></html>`],
    'meta charset and a stylesheet first': ['<html><meta charset="utf-8"><link rel="stylesheet" href="/s.css"><p>x</p></html>', `<html><meta charset="utf-8"><link rel="stylesheet" href="/s.css">${H}<p>x</p></html>`],
    'text first (then in the body, before the first element)': ['<!doctype html>\n<html>\nHello <b>x</b>', `<!doctype html>\n<html>\nHello ${H}<b>x</b>`],
    'a fragment without <html> (at the end)': ['<p>x</p>', `<p>x</p>${H}`],
    'a script, a template and a noscript (their content is theirs)': [
      '<html><script>if (a < b) document.write("<p>")</script><template><div>t</div></template><noscript><img src="x.png"></noscript><main>m</main></html>',
      `<html><script>if (a < b) document.write("<p>")</script><template><div>t</div></template><noscript><img src="x.png"></noscript>${H}<main>m</main></html>`,
    ],
    'head content only': ['<!doctype html><html><title>t</title></html>', `<!doctype html><html><title>t</title>${H}</html>`],
    'a doctype only': ['<!doctype html>', `<!doctype html>${H}`],
    // Unchanged: the end of <head>, or the start of <body>.
    'a <body> tag after head content': ['<html><title>t</title><body><p>x</p></body></html>', `<html><title>t</title><body>${H}<p>x</p></body></html>`],
    'a <head> tag': ['<html><head><title>t</title></head><p>x</p></html>', `<html><head><title>t</title>${H}</head><p>x</p></html>`],
  };
  for (const [name, [html, expected]] of Object.entries(cases)) {
    const r = await both(html, {}, H);
    assert.equal(r.rewritten, expected, name);
    if (r.direct !== null) assert.equal(r.direct, r.rewritten, `${name}: the one pass`);
  }
});
