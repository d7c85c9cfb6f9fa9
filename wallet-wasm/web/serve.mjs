#!/usr/bin/env node
// A tiny static server for the wallet page (wallet-wasm/web/). The wallet is a static web app:
// this server only hands out its files, with the right types and a strict Content-Security-Policy.
//
//   node wallet-wasm/web/serve.mjs --port 8094 [--host 127.0.0.1]
//
// `/`, `/receive`, `/present` and `/callback` answer index.html (the page reads its query itself); other paths
// answer the file of that name under web/ (never anything outside it), or 404.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)));
const { values: opts } = parseArgs({
  options: { port: { type: 'string', default: '8094' }, host: { type: 'string', default: '127.0.0.1' } },
});
const PORT = Number(opts.port);
if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.error('usage: serve.mjs --port P [--host 127.0.0.1]');
  process.exit(2);
}

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
  + "connect-src *; frame-ancestors 'none'";
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};
const PAGES = new Set(['/', '/index.html', '/receive', '/present', '/callback']);

function headers(type, length) {
  return {
    'content-type': type,
    'content-length': String(length),
    'cache-control': 'no-cache',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    // Offer and request links carry one-time URLs in the query: never pass them on.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'permissions-policy': 'publickey-credentials-create=(self), publickey-credentials-get=(self), camera=(), microphone=(), geolocation=()',
  };
}

/** The file under ROOT for a request path, or null (outside ROOT, dotfiles, directories). */
async function fileFor(pathname) {
  if (PAGES.has(pathname)) return join(ROOT, 'index.html');
  let decoded;
  try { decoded = decodeURIComponent(pathname); } catch { return null; }
  if (decoded.includes('\0') || decoded.split('/').some((part) => part.startsWith('.'))) return null;
  const file = resolve(ROOT, `.${decoded}`);
  if (!file.startsWith(ROOT + sep)) return null;
  if (file === fileURLToPath(import.meta.url)) return null; // the server itself is not part of the app
  if (!TYPES[extname(file)]) return null;
  try {
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

const gzipped = new Map(); // compressed bodies by file and version

const server = createServer(async (req, res) => {
  const send = (status, type, body) => {
    res.writeHead(status, headers(type, Buffer.byteLength(body)));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const { pathname } = new URL(req.url, 'http://wallet.invalid');
    const file = await fileFor(pathname);
    if (!file) return send(404, 'text/plain; charset=utf-8', 'not found\n');
    // no-cache: the browser revalidates each time, and gets 304 while the file is unchanged.
    const st = await stat(file);
    const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    res.setHeader('etag', etag);
    if (req.headers['if-none-match'] === etag) {
      const h = headers(TYPES[extname(file)], 0);
      delete h['content-length'];
      res.writeHead(304, h);
      return res.end();
    }
    let body = await readFile(file);
    res.setHeader('vary', 'accept-encoding');
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && body.length > 1024) {
      const key = `${file} ${etag}`;
      if (!gzipped.has(key)) gzipped.set(key, gzipSync(body, { level: 9 }));
      body = gzipped.get(key);
      res.setHeader('content-encoding', 'gzip');
    }
    return send(200, TYPES[extname(file)], body);
  } catch (e) {
    console.error(`serve.mjs: ${e?.message ?? e}`);
    if (!res.headersSent) send(500, 'text/plain; charset=utf-8', 'error\n');
    else res.destroy();
  }
});
server.listen(PORT, opts.host, () => {
  const { port } = server.address();
  console.log(`civic wallet on http://localhost:${port}/ (listening on ${opts.host}:${port})`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
