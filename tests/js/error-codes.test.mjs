// Every error code a user of the npm package (or of `buyerpath check`) can
// meet is in the npm README's "Error codes" tables, and every code those
// tables list still occurs in the sources (no stale rows).
//
// The codes are read from the sources, not from a list kept here:
//
// Rust: src/ (the engine; not src/testing.rs, nor any `#[cfg(test)]` item)
// and wasm/src/ (the bindings), with comments blanked first. A code is
//   R1. the first argument of `Issue::new(...)`, when it is a string literal;
//   R2. the argument at the place of a `&str` parameter named `code` (or
//       ending in `_code`) of any function, at its call sites: the helpers
//       that pass it to `Issue::new`, state/codec.rs's `bad(code, msg)` and
//       the bindings' `arg(code, path, message, hint)`;
//   R3. the same for `deep_code`: json.rs's `syntax_issue(text, base, e,
//       deep_code)` and the bindings' `json_value(v, what, deep_code)`, which
//       passes its own on (a call that passes on such a parameter is read at
//       its callers');
//   R4. `unknown_<what>` for each `self.resolve("<what>", ...)` of the
//       playbook compiler (its `Issue::new(&format!("unknown_{what}"), ...)`);
//   R5. the string literals of `let code = ...;` where `Issue::new(code, ...)`
//       is called in the same function (a choice between two codes).
// Any other first argument of `Issue::new`, or a helper called with a code
// that is not a literal, fails the test: teach it the new form.
//
// JavaScript: the glue's refusals (scripts/glue-hooks.mjs, which writes them
// into the generated glue), pkg-template/*.js, pkg-template/page/*.js and
// pkg-template/layer/*.js, with comments blanked first. A code is
//   J1. a string literal ('x', "x" or `x`) assigned to `code` (`err.code =
//       'x'`, a default parameter `code = 'x'`, or `const code = a || 'x'`,
//       to the end of the statement or line) or given as a `code: 'x'` property;
//   J2. the argument at the `code` parameter's place of an error factory, a
//       function with a parameter named `code` (`packageError(code, ...)`,
//       `senderError(code, ...)`, `argError(path, message, hint, code)`).
// A factory called with something else there than a literal or `code`
// fails the test.
//
// The last test runs the same extraction on sources given one more code
// (one per pattern) and on the README with a row taken out or a stale row
// added, and checks that each is reported.
//
// `buyerpath check`'s warnings (tools/src/warnings: `Warning::new("x", ...)`)
// are in their own table of the same section. The collector's HTTP errors
// (tools/src/serve) are documented with the collector, in the repository's
// README, and are not read here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { root } from './fixtures.mjs';

const CODE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

// ---------------------------------------------------------------- lexing

/**
 * `text` with comments blanked (`skeleton: false`) or comments and the
 * insides of string and char literals blanked (`skeleton: true`), the same
 * length, newlines kept. `lang` is 'rust' or 'js'.
 */
function blank(text, lang, skeleton = false) {
  const out = text.split('');
  const wipe = (from, to, keep) => {
    for (let k = from; k < to; k++) if (!keep && out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  let prev = ''; // the last significant character, for JS regex literals
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      const end = text.indexOf('\n', i);
      const to = end < 0 ? n : end;
      wipe(i, to, false);
      i = to;
    } else if (c === '/' && d === '*') {
      // Rust block comments nest; JS ones do not.
      let depth = 1;
      let k = i + 2;
      while (k < n && depth > 0) {
        if (lang === 'rust' && text[k] === '/' && text[k + 1] === '*') {
          depth++;
          k += 2;
        } else if (text[k] === '*' && text[k + 1] === '/') {
          depth--;
          k += 2;
        } else k++;
      }
      wipe(i, k, false);
      i = k;
    } else if (lang === 'rust' && (c === 'r' || (c === 'b' && d === 'r')) && /^b?r#*"/.test(text.slice(i, i + 40)) && !/[A-Za-z0-9_]/.test(text[i - 1] || '')) {
      const m = /^b?r(#*)"/.exec(text.slice(i, i + 40));
      const close = `"${m[1]}`;
      const start = i + m[0].length;
      const end = text.indexOf(close, start);
      const to = end < 0 ? n : end;
      wipe(start, to, !skeleton);
      i = to + close.length;
      prev = '"';
    } else if (c === '"' || (lang === 'js' && (c === "'" || c === '`'))) {
      const k = stringEnd(text, i, lang);
      wipe(i + 1, k - 1, !skeleton);
      i = k;
      prev = '"';
    } else if (lang === 'rust' && c === "'") {
      // A char literal ('x', '\n', '\u{7f}'), or a lifetime ('a).
      let k = -1;
      if (d === '\\') k = text.indexOf("'", i + 3);
      else if (text[i + 2] === "'") k = i + 2;
      else if (text.codePointAt(i + 1) > 0xffff && text[i + 3] === "'") k = i + 3;
      if (k > 0) {
        wipe(i + 1, k, !skeleton);
        i = k + 1;
      } else i++;
    } else if (lang === 'js' && c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(?:return|typeof|case|of|in)\s*$/.test(text.slice(Math.max(0, i - 8), i)))) {
      // A regex literal.
      let k = i + 1;
      let cls = false;
      while (k < n && text[k] !== '\n') {
        if (text[k] === '\\') k += 2;
        else if (text[k] === '[') (cls = true), k++;
        else if (text[k] === ']') (cls = false), k++;
        else if (text[k] === '/' && !cls) break;
        else k++;
      }
      wipe(i + 1, k, !skeleton);
      i = k + 1;
      prev = '"';
    } else {
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return out.join('');
}

/** Just past the string literal opening at `i` (quotes, escapes; a JS template's `${...}` parts are skipped whole). */
function stringEnd(text, i, lang) {
  const q = text[i];
  let k = i + 1;
  while (k < text.length) {
    const c = text[k];
    if (c === '\\') k += 2;
    else if (c === q) return k + 1;
    else if (lang === 'js' && q === '`' && c === '$' && text[k + 1] === '{') k = codeEnd(text, k + 2, '}', lang);
    else if (q !== '`' && q !== '"' && c === '\n') return k; // an unclosed JS '...' ends at the line
    else k++;
  }
  return k;
}

/** Just past the `close` bracket that ends code starting at `i` (brackets balanced, literals skipped). */
function codeEnd(text, i, close, lang) {
  const stack = [close];
  let k = i;
  while (k < text.length && stack.length) {
    const c = text[k];
    if (c === '"' || (lang === 'js' && (c === "'" || c === '`'))) k = stringEnd(text, k, lang);
    else if (c === '(') stack.push(')'), k++;
    else if (c === '[') stack.push(']'), k++;
    else if (c === '{') stack.push('}'), k++;
    else if (c === stack[stack.length - 1]) stack.pop(), k++;
    else k++;
  }
  return k;
}

/** The arguments of the call whose `(` is at `open`, as trimmed source texts (`text` has no comments). */
function callArgs(text, open, lang) {
  const end = codeEnd(text, open + 1, ')', lang) - 1;
  const args = [];
  let from = open + 1;
  let k = open + 1;
  while (k < end) {
    const c = text[k];
    if (c === '"' || (lang === 'js' && (c === "'" || c === '`'))) k = stringEnd(text, k, lang);
    else if (c === '(' ) k = codeEnd(text, k + 1, ')', lang);
    else if (c === '[') k = codeEnd(text, k + 1, ']', lang);
    else if (c === '{') k = codeEnd(text, k + 1, '}', lang);
    else if (c === ',') args.push(text.slice(from, k).trim()), (from = k + 1), k++;
    else k++;
  }
  const last = text.slice(from, end).trim();
  if (last) args.push(last);
  return args;
}

/** The code a literal argument gives (`"x"`, `'x'`, a template without `${}`, `&"x"`), or null. */
function literal(arg) {
  const m = /^&?(["'`])([a-z0-9_]+)\1$/.exec(arg ?? '');
  return m ? m[2] : null;
}

const lineOf = (text, at) => text.slice(0, at).split('\n').length;

/** `text` (comments blanked) without its `#[cfg(test)]` items (a `mod tests { ... }`, a `mod testing;`, a function). */
function withoutTestItems(text) {
  const skel = blank(text, 'rust', true);
  const out = text.split('');
  const re = /#\[cfg\(test\)\]/g;
  let m;
  while ((m = re.exec(skel))) {
    const semi = skel.indexOf(';', m.index);
    const brace = skel.indexOf('{', m.index);
    let end;
    if (brace >= 0 && (semi < 0 || brace < semi)) end = codeEnd(skel, brace + 1, '}', 'rust');
    else end = semi < 0 ? skel.length : semi + 1;
    for (let k = m.index; k < end; k++) if (out[k] !== '\n') out[k] = ' ';
  }
  return out.join('');
}

// ---------------------------------------------------------------- extraction

/** A map of codes to where each occurs, what could not be read, and how to add to them. */
function collector() {
  const codes = new Map();
  const unresolved = [];
  const add = (code, where) => {
    if (!CODE.test(code)) return unresolved.push(`${where}: \`${code}\` is not a code`);
    if (!codes.has(code)) codes.set(code, []);
    codes.get(code).push(where);
  };
  return { codes, unresolved, add };
}

/**
 * The codes of Rust sources: `files` is [[name, text]]. Returns
 * { codes: Map(code -> [where]), unresolved: [where: expression] }.
 */
function rustCodes(files) {
  const { codes, unresolved, add } = collector();
  const texts = files.map(([name, text]) => [name, withoutTestItems(blank(text, 'rust'))]);

  // Helpers that take a code: a function with a parameter `code` or
  // `deep_code` (or one ending in `_code`) of type &str. Name -> its place.
  const helpers = new Map();
  for (const [, text] of texts) {
    for (const m of text.matchAll(/\bfn\s+([a-z_0-9]+)\s*(?:<[^>]*>)?\s*\(/g)) {
      const params = callArgs(text, m.index + m[0].length - 1, 'rust');
      params.forEach((p, k) => {
        if (/^(?:mut\s+)?[a-z_]*code\s*:\s*&(?:'static\s+)?str$/.test(p)) helpers.set(m[1], { at: k, param: p.split(':')[0].trim() });
      });
    }
  }
  helpers.delete('new'); // Issue::new itself, read below

  for (const [name, text] of texts) {
    // R1, R4, R5: Issue::new's first argument.
    for (const m of text.matchAll(/\bIssue::new\s*\(/g)) {
      const where = `${name}:${lineOf(text, m.index)}`;
      const first = callArgs(text, m.index + m[0].length - 1, 'rust')[0];
      const lit = literal(first);
      if (lit) add(lit, where);
      else if (first === '&format!("unknown_{what}")') {
        // R4: the compiler's resolve(what, ...) calls.
        if (!/^fn\s+resolve\b/.test(enclosingFn(text, m.index)?.[0] ?? '')) unresolved.push(`${where}: ${first} outside fn resolve`);
        for (const [n, t] of texts) {
          for (const r of t.matchAll(/\bself\.resolve\s*\(/g)) {
            const what = literal(callArgs(t, r.index + r[0].length - 1, 'rust')[0]);
            if (what) add(`unknown_${what}`, `${n}:${lineOf(t, r.index)} (resolve)`);
            else unresolved.push(`${n}:${lineOf(t, r.index)}: self.resolve(...) without a literal kind`);
          }
        }
      } else if (/^[a-z_]+$/.test(first) && [...helpers.values()].some((h) => h.param === first) && isParamOfEnclosingFn(text, m.index, first)) {
        // a helper: read at its call sites (below)
      } else if (/^[a-z_]+$/.test(first)) {
        // R5: `let code = ...;` in the same function.
        const body = text.slice(enclosingFn(text, m.index)?.index ?? 0, m.index);
        const lets = [...body.matchAll(new RegExp(`\\blet\\s+${first}\\s*=([^;]*);`, 'g'))];
        const lits = lets.flatMap((l) => [...l[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]));
        if (lits.length) lits.forEach((c) => add(c, `${where} (let ${first})`));
        else unresolved.push(`${where}: Issue::new(${first}, ...)`);
      } else unresolved.push(`${where}: Issue::new(${first}, ...)`);
    }
    // R2, R3: helpers' call sites (not their definitions).
    for (const [fn, { at }] of helpers) {
      for (const m of text.matchAll(new RegExp(`(?<!fn\\s+)(?<![A-Za-z0-9_.])${fn}\\s*\\(`, 'g'))) {
        const where = `${name}:${lineOf(text, m.index)}`;
        const arg = callArgs(text, m.index + m[0].length - 1, 'rust')[at];
        const lit = literal(arg);
        if (lit) add(lit, `${where} (${fn})`);
        else if (arg !== undefined && [...helpers.values()].some((h) => h.param === arg) && isParamOfEnclosingFn(text, m.index, arg)) {
          // passed on from another helper's parameter: read at that one's call sites
        } else unresolved.push(`${where}: ${fn}(... ${arg} ...)`);
      }
    }
  }
  return { codes, unresolved };
}

/** The last `fn name(` before `at`: the Rust function around it. */
function enclosingFn(text, at) {
  const fns = [...text.slice(0, at).matchAll(/\bfn\s+[a-z_0-9]+\s*(?:<[^>]*>)?\s*\(/g)];
  return fns[fns.length - 1];
}

/** Whether `param` is a parameter of the Rust function around `at`. */
function isParamOfEnclosingFn(text, at, param) {
  const last = enclosingFn(text, at);
  if (!last) return false;
  const params = callArgs(text, last.index + last[0].length - 1, 'rust');
  return params.some((p) => p.split(':')[0].replace(/^mut\s+/, '').trim() === param);
}

/** The codes of JavaScript sources, as rustCodes. */
function jsCodes(files) {
  const { codes, unresolved, add } = collector();
  const texts = files.map(([name, text]) => [name, blank(text, 'js')]);
  // Factories: `function name(..., code, ...)` (also inside glue-hooks' strings).
  const factories = new Map();
  for (const [, text] of texts) {
    for (const m of text.matchAll(/\bfunction\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)/g)) {
      const at = m[2].split(',').findIndex((p) => /^\s*code\s*(?:=|$)/.test(p));
      if (at >= 0) factories.set(m[1], at);
    }
  }
  for (const [name, text] of texts) {
    // J1: `code = 'x'`, `code = a || 'x'` (to the end of the statement or line), `code: 'x'`.
    for (const m of text.matchAll(/(?<![\w$])code\s*=(?![=>])([^;\n]*)/g)) {
      for (const l of m[1].matchAll(/(['"`])([^'"`\n]*)\1/g)) add(l[2], `${name}:${lineOf(text, m.index)}`);
    }
    for (const m of text.matchAll(/(?<![\w$])code\s*:\s*(['"`])([^'"`\n]*)\1/g)) add(m[2], `${name}:${lineOf(text, m.index)}`);
    // J2: factories' call sites.
    for (const [fn, at] of factories) {
      for (const m of text.matchAll(new RegExp(`(?<![\\w$])(?<!function\\s+)${fn.replace('$', '\\$')}\\s*\\(`, 'g'))) {
        const where = `${name}:${lineOf(text, m.index)}`;
        const args = callArgs(text, m.index + m[0].length - 1, 'js');
        const arg = args[at];
        const lit = literal(arg);
        if (lit) add(lit, `${where} (${fn})`);
        else if (arg === undefined || arg === 'code') {
          // the parameter's default, or a `code` read by J1
        } else unresolved.push(`${where}: ${fn}(... ${arg} ...)`);
      }
    }
  }
  return { codes, unresolved };
}

/** `buyerpath check`'s warning codes: the literal first argument of `Warning::new(...)`. */
function warningCodes(files) {
  const codes = new Map();
  const unresolved = [];
  for (const [name, raw] of files) {
    const text = withoutTestItems(blank(raw, 'rust'));
    for (const m of text.matchAll(/\bWarning::new\s*\(/g)) {
      const where = `${name}:${lineOf(text, m.index)}`;
      const first = callArgs(text, m.index + m[0].length - 1, 'rust')[0];
      const lit = literal(first);
      if (!lit) {
        if (!isParamOfEnclosingFn(text, m.index, first)) unresolved.push(`${where}: Warning::new(${first}, ...)`);
        continue;
      }
      if (!codes.has(lit)) codes.set(lit, []);
      codes.get(lit).push(where);
    }
  }
  return { codes, unresolved };
}

/**
 * The codes of the tables of the README's "Error codes" section (from its
 * heading to the next heading of the same or a higher level): the first
 * cell of each row, one backticked code each. { errors, warnings }: the
 * rows of the table under a heading or paragraph naming warnings are
 * warnings.
 */
function tableCodes(readme) {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} Error codes\s*$/.test(l));
  if (start < 0) return null;
  const level = lines[start].match(/^#+/)[0].length;
  const errors = [];
  const warnings = [];
  let list = errors;
  for (const line of lines.slice(start + 1)) {
    const h = /^(#+) /.exec(line);
    if (h && h[1].length <= level) break;
    if (/^\*\*Warnings/.test(line) || (h && /warnings/i.test(line))) list = warnings;
    const row = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (row) list.push(row[1]);
  }
  return { errors, warnings };
}

/** What is wrong between the codes of the sources and those of the tables. */
function compare(sourceCodes, tableList, what) {
  const problems = [];
  const table = new Set(tableList);
  const seen = new Set();
  for (const c of tableList) {
    if (seen.has(c)) problems.push(`\`${c}\` has two rows in the ${what} table`);
    seen.add(c);
  }
  for (const [code, where] of sourceCodes) {
    if (!table.has(code)) problems.push(`\`${code}\` (${where.slice(0, 3).join(', ')}) is not in the npm README's ${what} table`);
  }
  for (const code of table) {
    if (!sourceCodes.has(code)) problems.push(`\`${code}\` is in the ${what} table but no source gives it any more (a stale row?)`);
  }
  return problems;
}

// ---------------------------------------------------------------- the sources

function walk(dir, keep) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p, keep) : keep(p) ? [p] : [];
  });
}
const read = (paths) => paths.sort().map((p) => [relative(root, p), readFileSync(p, 'utf8')]);

const rustFiles = read([
  ...walk(join(root, 'src'), (p) => p.endsWith('.rs') && relative(root, p) !== join('src', 'testing.rs')),
  ...walk(join(root, 'wasm', 'src'), (p) => p.endsWith('.rs')),
]);
const jsFiles = read([
  join(root, 'scripts', 'glue-hooks.mjs'),
  ...walk(join(root, 'pkg-template'), (p) => p.endsWith('.js')),
]);
const warningFiles = read(walk(join(root, 'tools', 'src', 'warnings'), (p) => p.endsWith('.rs')));
const readme = readFileSync(join(root, 'pkg-template', 'README.md'), 'utf8');

/** Every code of the sources: code -> [where]. */
function sourceCodes(rust = rustFiles, js = jsFiles) {
  const r = rustCodes(rust);
  const j = jsCodes(js);
  const codes = new Map(r.codes);
  for (const [c, w] of j.codes) codes.set(c, [...(codes.get(c) || []), ...w]);
  return { codes, unresolved: [...r.unresolved, ...j.unresolved] };
}

// ---------------------------------------------------------------- tests

test('every error code of the sources is read by a known pattern', () => {
  const { codes, unresolved } = sourceCodes();
  assert.deepEqual(unresolved, [], 'codes built in a way this test does not read: extend its patterns');
  // The extraction finds the forms it was written for (a floor, so that a
  // lexing mistake that blanks a file is noticed).
  for (const c of ['duplicate_id', 'state_garbage', 'unknown_stage', 'playbook_too_deep', 'condition_too_deep', 'negative_weight', 'input_too_large', 'freed', 'wasm_load_failed', 'no_compiler', 'batch_refused', 'unknown_slot', 'invalid_visitor_id']) {
    assert.ok(codes.has(c), `${c} not found in the sources`);
  }
  assert.ok(codes.size >= 60, `only ${codes.size} codes found`);
});

test("the npm README's table lists every error code, and no other", () => {
  const tables = tableCodes(readme);
  assert.ok(tables, 'pkg-template/README.md has no "## Error codes" section');
  const problems = compare(sourceCodes().codes, tables.errors, 'error codes');
  assert.deepEqual(problems, []);
});

test("the npm README's warnings table lists every warning of buyerpath check, and no other", () => {
  const { codes, unresolved } = warningCodes(warningFiles);
  assert.deepEqual(unresolved, []);
  assert.ok(codes.size >= 1);
  assert.deepEqual(compare(codes, tableCodes(readme).warnings, 'warnings'), []);
});

test('a new code in a source, or a removed row, fails the check', () => {
  const { codes } = sourceCodes();
  const tables = tableCodes(readme);
  // Each pattern, on a source given one more code.
  const rust = (name, text) => sourceCodes([...rustFiles, [name, text]], jsFiles).codes;
  const js = (name, text) => sourceCodes(rustFiles, [...jsFiles, [name, text]]).codes;
  const added = {
    R1: rust('src/new.rs', 'fn f() -> Issue {\n    Issue::new(\n        "brand_new_code", "$", "x")\n}\n'),
    R2: rust('src/new.rs', 'fn bad2(code: &str) -> Issue { Issue::new(code, "$", "m") }\nfn g() { bad2("brand_new_code"); }\n'),
    R2b: rust('src/new.rs', 'fn g() { let e = bad("brand_new_code", "m"); }\n'),
    R3: rust('src/new.rs', 'fn g(t: &str) { syntax_issue(t, "$", &e, "brand_new_code"); }\n'),
    R4: rust('src/new.rs', 'fn g(&mut self) { self.resolve("brand_new_code", &ids, id, || p()); }\n'),
    R5: rust('src/new.rs', 'fn g(w: f64) -> Issue {\n    let code = if w < 0.0 { "brand_new_code" } else { "out_of_range" };\n    Issue::new(code, "$", "m")\n}\n'),
    J1: js('pkg-template/new.js', "const e = new Error('x');\ne.code = 'brand_new_code';\n"),
    J1b: js('pkg-template/new.js', "throw Object.assign(new Error('x'), { code: 'brand_new_code' });\n"),
    J1c: js('pkg-template/new.js', 'const code = err.code || `brand_new_code`;\n'),
    J2: js('pkg-template/new.js', "report(argError('$', `a ${x}`, 'hint', 'brand_new_code'));\n"),
    J2b: js('pkg-template/new.js', "onError(senderError('brand_new_code', 'm', 'h'));\n"),
  };
  for (const [pattern, found] of Object.entries(added)) {
    const c = pattern === 'R4' ? 'unknown_brand_new_code' : 'brand_new_code';
    assert.ok(found.has(c), `pattern ${pattern} did not find the new code`);
    assert.ok(compare(found, tables.errors, 'error codes').some((p) => p.includes(`\`${c}\``)), pattern);
  }
  // Comments and tests do not count.
  const quiet = rust('src/new.rs', '// Issue::new("brand_new_code", ...)\n/// bad("brand_new_code")\n#[cfg(test)]\nmod tests {\n    fn t() { Issue::new("brand_new_code", "$", "{"); }\n}\n');
  assert.ok(!quiet.has('brand_new_code'));
  const quietJs = js('pkg-template/new.js', "// err.code = 'brand_new_code'\n/* { code: 'brand_new_code' } */\n");
  assert.ok(!quietJs.has('brand_new_code'));
  // An unknown form is reported, not skipped.
  const odd = rustCodes([['src/new.rs', 'fn g(c: &str) { Issue::new(CODES[0], "$", "m"); }\n']]);
  assert.equal(odd.unresolved.length, 1);
  // A row taken out of the README, and a stale row added.
  for (const code of ['state_version', 'freed', 'unknown_role']) {
    const without = readme.replace(new RegExp(`^\\| \`${code}\` \\|.*\\n`, 'm'), '');
    assert.notEqual(without, readme, `no row for ${code}`);
    const problems = compare(codes, tableCodes(without).errors, 'error codes');
    assert.ok(problems.some((p) => p.startsWith(`\`${code}\``)), code);
  }
  const stale = readme.replace(/^(\| `freed` \|.*\n)/m, '$1| `no_longer_given` | x | x | x |\n');
  assert.ok(compare(codes, tableCodes(stale).errors, 'error codes').some((p) => p.includes('no_longer_given') && p.includes('stale')));
});
