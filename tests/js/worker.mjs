// A Cloudflare Worker that replays journey vectors posted to it through the
// package's `workerd` entry (Wasm imported as a compiled module + initSync).
import { Engine } from '../../pkg/workerd.js';
import { replayAll, webSha256 } from './replay.mjs';

export default {
  async fetch(request) {
    const { playbook, vectors } = await request.json();
    const results = await replayAll(Engine, playbook, vectors, webSha256);
    let error = null;
    try {
      new Engine('{"version": 1');
    } catch (e) {
      error = { code: e.code, path: e.path, isError: e instanceof Error };
    }
    return Response.json({ results, error });
  },
};
