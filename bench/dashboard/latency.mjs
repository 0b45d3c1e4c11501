// latency: sequential requests to a running maillage, one keep-alive connection, printing the
// p50 / p90 / p99 / max latency of a path. Bounded: N requests and 120 s at most, loopback only.
// Usage: node latency.mjs BASE_URL PATH N [EMAIL PASSWORD]
import http from 'node:http';

const [base, path, nArg, email, password] = process.argv.slice(2);
const url = new URL(base);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
  console.error('latency: loopback addresses only');
  process.exit(2);
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let cookie = '';

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: p, method, agent,
      headers: { cookie, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        for (const c of res.headers['set-cookie'] || []) {
          const kv = c.split(';')[0];
          const name = kv.split('=')[0];
          cookie = cookie.split('; ').filter((x) => x && !x.startsWith(name + '=')).concat(kv).join('; ');
        }
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

if (email) {
  const page = await request('GET', '/connexion');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body.toString())[1];
  const form = new URLSearchParams({ email, password, _csrf: csrf }).toString();
  const r = await request('POST', '/connexion', form, { 'content-type': 'application/x-www-form-urlencoded' });
  if (r.status !== 303) throw new Error(`login failed: ${r.status}`);
}

const n = Number(nArg) || 1000;
const times = [];
const deadline = Date.now() + 120000;
let bytes = 0;
for (let i = 0; i < n && Date.now() < deadline; i++) {
  const t0 = process.hrtime.bigint();
  const r = await request('GET', path);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 200) throw new Error(`${path}: status ${r.status}`);
  bytes = r.body.length;
  if (i >= Math.min(20, n / 10)) times.push(ms); // warm-up left out
}
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
console.log(`${path} (${email ? 'connecté' : 'anonyme'}, ${times.length} requêtes, ${(bytes / 1024).toFixed(0)} Kio) : ` +
  `p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
agent.destroy();
