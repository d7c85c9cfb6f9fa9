/*
 * Command line, constants and the npm package loader of the browser wallet end-to-end test
 * (wallet_e2e.mjs). Evaluating this module parses the options: on a usage error it prints the
 * usage and exits with 2 before anything else runs.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '..', '..');

// ESM `import` ignores NODE_PATH: resolve through require (which honours it), then .tools/node.
const resolvers = [createRequire(import.meta.url), createRequire(path.join(ROOT, '.tools', 'node', 'package.json'))];
async function load(name) {
  for (const r of resolvers) {
    let resolved;
    try { resolved = r.resolve(name); } catch { continue; }
    return import(pathToFileURL(resolved).href);
  }
  throw new Error(`cannot find npm package ${name}: run tests/interop/setup.sh and set NODE_PATH=.tools/node/node_modules`);
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const { values: opts } = parseArgs({
  options: {
    issuer: { type: 'string' }, code: { type: 'string' }, 'admin-token': { type: 'string' },
    // A second resident's enrollment code (step 10, the authorization code flow).
    code2: { type: 'string' },
    // A third resident's enrollment code, and the petitions example (steps P1-P3).
    code3: { type: 'string' }, petitions: { type: 'string' },
    wallet: { type: 'string' }, budget: { type: 'string' }, artifacts: { type: 'string' },
    resident: { type: 'string', default: 'D-0001' },
    // A second budget that asks as a certificate verifier (x509_hash, HAIP 1.0).
    'x509-budget': { type: 'string' },
  },
});
if (!opts.issuer || !opts.code || !opts.code2 || !opts.code3 || !opts.petitions || !opts['admin-token'] || !opts.wallet || !opts.budget || !opts['x509-budget']) {
  log('usage: wallet_e2e.mjs --issuer URL --code CODE --code2 CODE --code3 CODE --admin-token TOKEN --wallet URL --budget URL --x509-budget URL --petitions URL [--artifacts DIR]');
  process.exit(2);
}
const trim = (u) => u.replace(/\/+$/, '');
const ISSUER = trim(opts.issuer);
const WALLET = trim(opts.wallet);
const BUDGET = trim(opts.budget);
const X509_BUDGET = trim(opts['x509-budget']);
const PETITIONS = trim(opts.petitions);
const ARTIFACTS = path.resolve(opts.artifacts ?? path.join(ROOT, 'tests', 'artifacts'));
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TOTAL_MS = Number(process.env.WALLET_E2E_TIMEOUT_MS || 120000);
const STEP_MS = 20000;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
// The budget platform is named by its own origin (wallets give its pseudonym to no other
// verifier); the issuer also computes a pseudonym for a second platform, which no verifier here
// may get.
const PLATFORM_HOST = new URL(BUDGET).host;
const OTHER_PLATFORM = 'https://consult.teststad.example';
const SECRETS = ['Anna', 'de Vries', 'Dam 1', '1990-04-12', '1012 JS'];

export {
  ROOT,
  load,
  log,
  opts,
  ISSUER,
  WALLET,
  BUDGET,
  X509_BUDGET,
  PETITIONS,
  ARTIFACTS,
  EXECUTABLE,
  TOTAL_MS,
  STEP_MS,
  PHONE,
  PLATFORM_HOST,
  OTHER_PLATFORM,
  SECRETS,
};
