// What the wallet's Node.js tests share: the built wallet (wallet.js and its WebAssembly), npm
// packages found the way the interop scripts find them, and ok/FAIL lines with the summary line
// "N passed, N failed" that the CI scripts read.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** The wallet's JS API (`web/wallet.js`) and the built WebAssembly it runs. */
export async function builtWallet() {
  const api = await import(join(here, '..', 'web', 'wallet.js'));
  return { ...api, wasm: readFileSync(join(here, '..', 'web', 'pkg', 'civic_wallet_bg.wasm')) };
}

/** An npm package: ESM `import` ignores NODE_PATH, so resolve through require, then the
 *  project-local install (`.tools/node`, made by `cargo xtask setup`). */
export async function load(name) {
  for (const r of [createRequire(import.meta.url), createRequire(join(here, '..', '..', '.tools', 'node', 'package.json'))]) {
    let resolved;
    try { resolved = r.resolve(name); } catch { continue; }
    return import(pathToFileURL(resolved).href);
  }
  throw new Error(`cannot find npm package ${name}: run cargo xtask setup`);
}

/** The error `f` throws, or null. */
export const rejects = async (f) => { try { await f(); return null; } catch (e) { return e; } };

/** ok/FAIL lines: `check(name, cond, detail)`, `fail(text)` for an unexpected error, and
 *  `finish()`, which prints the summary and exits 1 on any failure. */
export function checks() {
  let passed = 0;
  let failed = 0;
  return {
    check(name, cond, detail = '') {
      if (cond) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
    },
    fail(text) { failed++; console.log(`FAIL ${text}`); },
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}
