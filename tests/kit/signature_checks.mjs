#!/usr/bin/env node
/*
 * kit/node/civic-platform.mjs's verifyWebhook on the shared cases of signature_cases.json.
 * Prints "ok <case>" / "FAIL <case>: why", then "N passed, N failed"; exit 1 on any failure.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebhookError, signWebhook, verifyWebhook } from '../../kit/node/civic-platform.mjs';

const spec = JSON.parse(fs.readFileSync(fileURLToPath(new URL('signature_cases.json', import.meta.url)), 'utf8'));
let passed = 0;
let failed = 0;
const report = (name, got, want) => {
  if (got === want) { passed += 1; console.log(`ok   node-signature-${name}`); } else { failed += 1; console.log(`FAIL node-signature-${name}: expected ${want}, got ${got}`); }
};
for (const c of spec.cases) {
  let got;
  try {
    const event = verifyWebhook(spec.secret, c.header ?? undefined, Buffer.from(c.body), { now: c.now, tolerance: spec.tolerance });
    got = event.id ? 'ok' : 'no id';
  } catch (e) {
    if (!(e instanceof WebhookError)) throw e;
    got = e.malformed ? 'malformed' : 'invalid';
  }
  report(c.name, got, c.expect);
}
const body = Buffer.from('{"status":"expired","id":"x"}');
let got = 'ok';
try { verifyWebhook('s', signWebhook('s', body), body); } catch (e) { got = e.message; }
report('sign-then-verify', got, 'ok');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
