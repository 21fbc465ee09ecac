// Measuring a worker under workerd from outside (shared by edge.mjs and
// breakdown.mjs). workerd's clocks stand still while a request runs, so the
// CPU of the workerd *process* is read from /proc before and after each
// request (the sum over its threads of schedstat's nanoseconds), requests sent
// one at a time. Linux only.
import { readdirSync, readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';

export const SECRET = 'bench-secret-0123456789';
export const ORIGIN = 'http://lumora.test';
/** A returning visitor's firmographics as Cloudflare would give them. */
export const CF = { country: 'US', region: 'New York', regionCode: 'NY', asOrganization: 'Hudson Ledger' };

/** The workerd processes this Node process started. */
function children() {
  const out = new Set();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (comm.startsWith('workerd') && ppid === process.pid) out.add(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** CPU nanoseconds of a process, all threads. */
export function cpuNs(pid) {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread gone
    }
  }
  return ns;
}

/** A Miniflare instance, the pid of the workerd it started, and how long it took to be ready. */
export async function startMiniflare(mfOptions) {
  const before = children();
  const t0 = performance.now();
  const mf = new Miniflare(mfOptions);
  await mf.ready;
  const readyMs = performance.now() - t0;
  const pid = [...children()].find((p) => !before.has(p));
  if (!pid) throw new Error('could not find the workerd process miniflare started');
  return { mf, pid, readyMs, startCpuNs: cpuNs(pid) };
}

/** The cookies a response sets, by name. */
export function setCookies(res) {
  const out = {};
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split('; ');
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** One request, with the workerd process's CPU it cost. */
export async function request(inst, path, cookie) {
  const c0 = cpuNs(inst.pid);
  const t0 = performance.now();
  const res = await inst.mf.dispatchFetch(`${ORIGIN}${path}`, { headers: { Cookie: cookie, Accept: 'text/html' }, cf: CF });
  const html = await res.text();
  const wallMs = performance.now() - t0;
  // let workerd finish what it does after the response (waitUntil, GC slices)
  await new Promise((r) => setImmediate(r));
  return { res, html, wallMs, cpuUs: (cpuNs(inst.pid) - c0) / 1000, cookies: setCookies(res) };
}

/** The state cookie header for the next request of the same visitor. */
export const nextCookie = (r) => `bp_consent=anonymous; bp=${r.cookies.bp}; bp_view=${r.cookies.bp_view}`;

export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99), n: s.length };
}
