/**
 * `pnpm demo:publish`: publishes one birth event to the demo topic as Disdukcapil's SIAK (the
 * `publisher` of .spl/demo.json), the way a PD's system would — a hub token from the OAuth2
 * token endpoint, then a CloudEvent in binary HTTP mode — and waits until the demo's Dinkes
 * receiver has it, signature verified. Run it while `pnpm start` runs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const demo = JSON.parse(
  readFileSync(join(resolve(root, process.env.SPL_STATE_DIR ?? '.spl'), 'demo.json'), 'utf8'),
) as {
  publicUrl: string;
  publisher: { clientId: string; clientSecret: string };
  topic?: { publishUrl: string; receivedUrl: string };
};
if (!demo.topic) {
  process.stderr.write('demo.json names no topic yet: is `pnpm start` running?\n');
  process.exit(1);
}

const basic = Buffer.from(
  `${encodeURIComponent(demo.publisher.clientId)}:${encodeURIComponent(demo.publisher.clientSecret)}`,
).toString('base64');
const tokenRes = await fetch(`${demo.publicUrl}/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
  body: 'grant_type=client_credentials',
});
if (!tokenRes.ok) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
const { access_token: token } = (await tokenRes.json()) as { access_token: string };

const id = randomUUID();
const nomorAkta = `3299-LU-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${id.slice(0, 4).toUpperCase()}`;
const published = await fetch(demo.topic.publishUrl, {
  method: 'POST',
  headers: {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-source': '/disdukcapil/siak',
    'ce-type': 'id.go.contoh.disdukcapil.kelahiran.tercatat.v1',
    'ce-subject': 'kelurahan/sukamaju',
    'ce-time': new Date().toISOString(),
  },
  body: JSON.stringify({
    nomorAkta,
    tanggalLahir: new Date().toISOString().slice(0, 10),
    kelurahan: 'Sukamaju',
  }),
});
process.stdout.write(`published ${id}: ${published.status} ${await published.text()}\n`);
if (published.status !== 202) process.exit(1);

for (let i = 0; i < 50; i++) {
  const received = (await (await fetch(demo.topic.receivedUrl)).json()) as {
    deliveries: Array<{ webhookId: string; verified: boolean; event: { id?: string } }>;
  };
  const hit = received.deliveries.find((d) => d.event?.id === id);
  if (hit) {
    process.stdout.write(
      `delivered to Dinkes's system as ${hit.webhookId}, signature ${hit.verified ? 'verified' : 'NOT verified'} (see ${demo.topic.receivedUrl})\n`,
    );
    process.exit(hit.verified ? 0 : 1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
process.stderr.write('not delivered within 10 s\n');
process.exit(1);
