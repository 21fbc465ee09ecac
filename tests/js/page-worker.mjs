// A Cloudflare Worker that replays journey vectors posted to it through
// `buyerpath/page`'s `workerd` entry, with the engine file posted as base64.
import { Engine } from '../../pkg/page/workerd.js';
import { replayAll, webSha256 } from './replay.mjs';

export default {
  async fetch(request) {
    const { engine, vectors } = await request.json();
    const bytes = Uint8Array.from(atob(engine), (c) => c.charCodeAt(0));
    function FromBytes() {
      return Engine.fromBytes(bytes);
    }
    const results = await replayAll(FromBytes, '', vectors, webSha256);
    const errors = [];
    for (const attempt of [() => Engine.fromBytes(bytes.subarray(0, 100)), () => new Engine('{}')]) {
      try {
        attempt();
      } catch (e) {
        errors.push({ code: e.code, path: e.path, isError: e instanceof Error });
      }
    }
    return Response.json({ results, errors });
  },
};
