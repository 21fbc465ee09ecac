// Test fixture (tests/edge/fill.test.mjs): one page, the same edits both ways,
// fill.mjs's one pass and workerd's HTMLRewriter; both results returned.
import { fillPage, readUpTo, slotRewriter } from '../../www/edge/fill.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/read') {
      // A body of `chunks` pieces of `size` bytes, streamed, read with a cap of `max`.
      const [chunks, size, max] = ['chunks', 'size', 'max'].map((k) => Number(url.searchParams.get(k)));
      let k = 0;
      const body = new ReadableStream({
        pull(c) {
          if (k === chunks) return c.close();
          c.enqueue(new Uint8Array(size).fill(97 + (k++ % 26)));
        },
      });
      const declared = url.searchParams.get('declared');
      const got = await readUpTo(new Response(body, declared ? { headers: { 'Content-Length': declared } } : {}), max);
      const bytes = got.bytes || new Uint8Array(await new Response(got.stream).arrayBuffer());
      return Response.json({ whole: Boolean(got.bytes), length: bytes.length, text: new TextDecoder().decode(bytes) });
    }
    const { html, edits, head } = await request.json();
    const slotEdit = (id) => (Object.hasOwn(edits, id) ? edits[id] : null);
    const bytes = new TextEncoder().encode(html);
    const direct = fillPage(bytes, slotEdit, head);
    const rewritten = await slotRewriter(slotEdit, head).transform(new Response(bytes)).text();
    return Response.json({ direct: direct && new TextDecoder().decode(direct), rewritten });
  },
};
