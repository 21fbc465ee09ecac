// `buyerpath/page`'s Engine: the page build's class (engines load from bytes:
// `Engine.fromBytes`) with `new Engine(playbook)` turned into a clear error,
// since this module has no JSON playbook compiler.
export function pageEngine(Engine) {
  return new Proxy(Engine, {
    construct() {
      const e = new Error('buyerpath/page has no playbook compiler: load an engine compiled ahead with Engine.fromBytes(bytes)');
      e.name = 'BuyerpathError';
      e.code = 'no_compiler';
      e.path = '$';
      e.hint = "run `buyerpath compile playbook.json -o playbook.bpe` and pass the file's bytes; `import { Engine } from 'buyerpath'` compiles JSON";
      e.issues = [{ code: e.code, path: e.path, message: e.message, hint: e.hint }];
      throw e;
    },
  });
}
