// A minimal token service for docker-registry's `auth: token` (the Docker token protocol), started
// by tests as its own process: GET /token?service=S&scope=repository:NAME:pull,push with Basic
// credentials -> {"token": JWT}, RS256-signed with the key whose certificate the registry trusts
// (x5c header). Wrong credentials: 401. Anonymous: a token granting nothing.
// Usage: node token-server.mjs KEY.pem CERT.pem ISSUER USER PASSWORD   (prints the port)
import { createServer } from 'node:http';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [keyFile, certFile, issuer, user, password] = process.argv.slice(2);
const key = createPrivateKey(readFileSync(keyFile));
const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
const b64url = (data) => Buffer.from(data).toString('base64url');
let issued = 0;

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/issued') return res.end(String(issued));
  const auth = req.headers.authorization ?? '';
  let who = '';
  if (auth.startsWith('Basic ')) {
    const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    if (u !== user || p.join(':') !== password) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return res.end('{"details":"incorrect username or password"}');
    }
    who = u;
  }
  const access = who ? url.searchParams.getAll('scope').map((s) => {
    const [type, ...rest] = s.split(':');
    const actions = rest.pop().split(',');
    return { type, name: rest.join(':'), actions };
  }) : [];
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
  const claims = { iss: issuer, sub: who, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
  const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('RSA-SHA256', Buffer.from(body), key).toString('base64url');
  issued++;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ token: `${body}.${signature}`, expires_in: 300 }));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
