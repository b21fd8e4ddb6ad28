/** The plain Node reference: @fastify/http-proxy (undici, 64 connections), no policy, no log. */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const upstream = process.argv[3];
if (!upstream) throw new Error('usage: fastify-proxy.ts <port> <upstream URL>');
const app = Fastify({ logger: false });
await app.register(proxy, { upstream, undici: { connections: 64, pipelining: 1 } });
await app.listen({ host: '127.0.0.1', port });
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
