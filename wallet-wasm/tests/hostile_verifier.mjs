// A hostile verifier on 127.0.0.1 for the wallet tests (Node API and Chromium): it serves
// unsigned OID4VP requests (client `redirect_uri:` on its own origin) that ask for pseudonyms it
// must not get, and records every answer a wallet posts. A wallet that keeps the pseudonym rule
// posts nothing to it.
//
//   const v = await hostileVerifier();
//   const link = v.link([['pseudonyms', otherPlatform], ['age_equal_or_over', '16']], vct);
//   ... the wallet refuses ...;  v.posts  // []
//   await v.close();
import { createServer } from 'node:http';

const b64u = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

export async function hostileVerifier() {
  const requests = new Map();
  const posts = [];
  const server = createServer((req, res) => {
    const cors = { 'access-control-allow-origin': '*' };
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/request/')) {
      const jwt = requests.get(url.pathname.slice('/request/'.length));
      res.writeHead(jwt ? 200 : 404, { ...cors, 'content-type': 'application/oauth-authz-req+jwt' });
      res.end(jwt ?? '');
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        posts.push({ path: url.pathname, body });
        res.writeHead(200, { ...cors, 'content-type': 'application/json' });
        res.end('{}');
      });
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' });
      res.end();
      return;
    }
    res.writeHead(404, cors);
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  let n = 0;
  return {
    base,
    posts,
    /** An `openid4vp://` link to a fresh request for `paths` (claim paths) of a `vct` credential. */
    link(paths, vct) {
      n += 1;
      const responseUri = `${base}/response/${n}`;
      const clientId = `redirect_uri:${responseUri}`;
      const payload = {
        response_type: 'vp_token',
        client_id: clientId,
        response_mode: 'direct_post',
        response_uri: responseUri,
        nonce: `hostile-nonce-${n}`,
        state: `hostile-state-${n}`,
        dcql_query: {
          credentials: [{ id: 'residency', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: paths.map((path) => ({ path })) }],
        },
      };
      requests.set(String(n), `${b64u({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64u(payload)}.`);
      const q = new URLSearchParams({ client_id: clientId, request_uri: `${base}/request/${n}` });
      return `openid4vp://?${q}`;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
