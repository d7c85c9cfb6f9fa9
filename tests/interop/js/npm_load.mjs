/*
 * Loads an npm package from an ES module. ESM `import` ignores NODE_PATH, so the package is
 * resolved through require (which honours NODE_PATH), falling back to the project-local install
 * in .tools/node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const resolvers = [
  createRequire(import.meta.url),
  createRequire(path.join(here, '..', '..', '..', '.tools', 'node', 'package.json')),
];

/** Imports npm package `name`. */
export async function load(name) {
  for (const r of resolvers) {
    let resolved;
    try { resolved = r.resolve(name); } catch { continue; }
    return import(pathToFileURL(resolved).href);
  }
  throw new Error(`cannot find npm package ${name}: run tests/interop/setup.sh and set NODE_PATH=.tools/node/node_modules`);
}

/** The installed version of npm package `name`, or `unknown`. */
export function pkgVersion(name) {
  for (const r of resolvers) {
    try { return JSON.parse(fs.readFileSync(r.resolve(`${name}/package.json`), 'utf8')).version; } catch { /* next */ }
  }
  return 'unknown';
}
