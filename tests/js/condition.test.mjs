// The condition language through the built package: GrowthBook's 143
// evalCondition conformance cases, compiled once or evaluated in one shot,
// and a broken condition as a BuyerpathError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { requirePkg, pkgDir } from './fixtures.mjs';

requirePkg();
const { CompiledCondition, evalCondition } = await import(`${pkgDir}/node.js`);
const cases = JSON.parse(
  readFileSync(new URL('../conformance/growthbook/cases.json', import.meta.url), 'utf8'),
).evalCondition;

test('all 143 GrowthBook evalCondition cases pass through the package', () => {
  assert.equal(cases.length, 143);
  const failed = [];
  let strict = 0;
  for (const [name, condition, attributes, expected] of cases) {
    if (evalCondition(attributes, condition) !== expected) failed.push(name);
    // The strict compiled form refuses conditions GrowthBook merely evaluates
    // to false (an operand of the wrong type); the others must agree.
    let compiled;
    try {
      compiled = new CompiledCondition(JSON.stringify(condition));
    } catch (e) {
      assert.equal(e.name, 'BuyerpathError', name);
      continue;
    }
    strict++;
    if (compiled.eval(JSON.stringify(attributes)) !== expected) failed.push(`${name} (compiled)`);
    compiled.free();
  }
  assert.deepEqual(failed, []);
  assert.ok(strict >= 135, `${strict} cases compile strictly`);
});

test('a broken condition throws a BuyerpathError with a code and a path', () => {
  assert.throws(
    () => new CompiledCondition({ country: { $inn: ['US'] } }),
    (e) => e.name === 'BuyerpathError' && e.code === 'unknown_operator' && e.path.startsWith('$'),
  );
  assert.throws(() => evalCondition('{"a":', { a: 1 }), (e) => e.code === 'invalid_json');
});
