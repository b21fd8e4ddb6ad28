/** The bench upstream: plain node:http, drains the body, answers a small JSON. PORT from argv. */
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ valid: true, nik: '3299010101850001', status: 'AKTIF' }));
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => process.exit(0));
