#!/usr/bin/env node
/*
 * Peer side of the civic-id SD-JWT VC interoperability tests (Node.js, CommonJS).
 *
 * Uses @sd-jwt/sd-jwt-vc, @sd-jwt/jwt-status-list and @sd-jwt/crypto-nodejs
 * (all 0.19.0) and jose.  Run with
 *
 *   NODE_PATH=/work/main/.tools/node/node_modules node tests/interop/js/interop.cjs <command> FILE
 *
 * Commands (file formats: ../README.md):
 *   issue OUT.json          issue an SD-JWT VC + presentation with the peer library
 *   verify IN.json          verify someone else's SD-JWT VC + presentation
 *   status-encode OUT.json  encode Token Status Lists (bits 1/2/4/8) + a signed token
 *   status-decode IN.json   decode someone else's status lists / status list token
 *   jwe-encrypt OUT.json    encrypt responses (direct_post.jwt) to a fresh recipient key (jose)
 *   jwe-decrypt IN.json     decrypt someone else's encrypted responses (jose)
 *
 * stdout carries only the JSON result (verify: the processed presentation claims);
 * progress and diagnostics go to stderr.  Exit code 0 = success, 1 = failure.
 *
 * The commands live in modules next to this file: interop_common.cjs (constants, helpers, file
 * I/O), interop_issue.cjs (issue), interop_verify.cjs (verify) and interop_status.cjs
 * (status-encode, status-decode), interop_jwe.cjs (jwe-encrypt, jwe-decrypt).
 */
'use strict';

const { InteropFailure, log } = require('./interop_common.cjs');
const { cmdIssue } = require('./interop_issue.cjs');
const { cmdVerify } = require('./interop_verify.cjs');
const { cmdStatusEncode, cmdStatusDecode } = require('./interop_status.cjs');
const { cmdJweEncrypt, cmdJweDecrypt } = require('./interop_jwe.cjs');

const USAGE = `usage: node interop.cjs <issue OUT.json | verify IN.json [--max-kb-age SECONDS] | status-encode OUT.json | status-decode IN.json | jwe-encrypt OUT.json | jwe-decrypt IN.json>`;

async function main(argv) {
  const [command, file, ...rest] = argv;
  if (!command || !file) {
    log(USAGE);
    return 2;
  }
  const opts = { maxKbAge: 0 };
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--max-kb-age') opts.maxKbAge = Number.parseInt(rest[++i], 10);
    else {
      log(`unknown option ${rest[i]}\n${USAGE}`);
      return 2;
    }
  }
  try {
    switch (command) {
      case 'issue':
        await cmdIssue(file);
        break;
      case 'verify':
        await cmdVerify(file, opts);
        break;
      case 'status-encode':
        await cmdStatusEncode(file);
        break;
      case 'status-decode':
        await cmdStatusDecode(file);
        break;
      case 'jwe-encrypt':
        await cmdJweEncrypt(file);
        break;
      case 'jwe-decrypt':
        await cmdJweDecrypt(file);
        break;
      default:
        log(USAGE);
        return 2;
    }
    return 0;
  } catch (e) {
    log(e instanceof InteropFailure ? `FAIL: ${e.message}` : `FAIL: unexpected ${e.name}: ${e.message}\n${e.stack}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
