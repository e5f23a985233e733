// A Node client as proxy-aware code (https-proxy-agent + proxy-from-env) writes it: the proxy comes
// from HTTPS_PROXY, the trust from NODE_EXTRA_CA_CERTS (no `ca` option anywhere). Node 20 reads no
// proxy variable itself; Node releases that honour NODE_USE_ENV_PROXY could use plain fetch().
// Usage: node node-get.js URL OUT_BODY_FILE; prints the status.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const tls = require('tls');

const [url, out] = process.argv.slice(2);
const proxy = process.env.HTTPS_PROXY || process.env.https_proxy;

class TunnelAgent extends https.Agent {
  createConnection(options, callback) {
    const p = new URL(proxy);
    const authority = `${options.host}:${options.port}`;
    const connect = http.request({ host: p.hostname, port: p.port, method: 'CONNECT', path: authority,
                                   headers: { host: authority } });
    connect.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return callback(new Error(`CONNECT ${authority}: ${res.statusCode}`));
      const servername = net.isIP(options.host) ? undefined : options.host;
      callback(null, tls.connect({ socket, host: options.host, servername, ALPNProtocols: ['http/1.1'] }));
    });
    connect.on('error', callback);
    connect.end();
  }
}

const agent = proxy ? new TunnelAgent({ keepAlive: false }) : undefined;
https.get(url, { agent }, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => {
    fs.writeFileSync(out, Buffer.concat(chunks));
    console.log(res.statusCode);
  });
}).on('error', (e) => {
  console.error(`node-get: ${e.message}`);
  process.exit(1);
});
