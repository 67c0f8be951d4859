// A TLS-terminating reverse proxy for one test's browser, as a deployment puts one in front of
// Sealpost: WebKit keeps no `Secure` cookie over plain http (Chromium and Firefox make an exception
// for loopback addresses, WebKit does not), and every session cookie of the portal is `__Host-`
// and `Secure`. Its certificate is made here with openssl and trusted by the session
// (`acceptInsecureCerts`). `close()` stops it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream';

let certificate: { key: Buffer; cert: Buffer } | undefined;

/** Headers for one connection only (RFC 9110 §7.6.1), which a proxy does not pass on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.includes(name.toLowerCase()) && value !== undefined) out[name] = value;
  }
  return out;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made once per process. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  if (!certificate) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ], { stdio: 'ignore' });
      certificate = { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return certificate;
}

export class TlsProxy {
  private constructor(private readonly server: https.Server, readonly url: string) {}

  /** Listen on a free loopback port and pass every request on to `target` (an http origin). */
  static async start(target: string): Promise<TlsProxy> {
    const to = new URL(target);
    const sockets = new Set<net.Socket>();
    const server = https.createServer(selfSigned(), (req, res) => {
      const upstream = http.request({
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...withoutHopByHop(req.headers), host: to.host, 'x-forwarded-proto': 'https' },
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        // A response cut upstream is cut for the browser too, and one the browser gave up on
        // is given up upstream.
        pipeline(answer, res, () => {});
      });
      res.on('close', () => upstream.destroy());
      pipeline(req, upstream, (e) => { if (e) res.destroy(); });
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    (server as unknown as { sockets: Set<net.Socket> }).sockets = sockets;
    await new Promise<void>((resolve) => server.listen(0, to.hostname, resolve));
    const { port } = server.address() as net.AddressInfo;
    return new TlsProxy(server, `https://${to.hostname}:${port}`);
  }

  /** `url` (on the proxied origin) as reached through the proxy. */
  reach(url: string, origin: string): string {
    return this.url + url.slice(origin.length);
  }

  async close(): Promise<void> {
    const sockets = (this.server as unknown as { sockets: Set<net.Socket> }).sockets;
    for (const s of sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
