import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoHub } from '../helpers/demo-hub.js';
import { buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import {
  applicationId,
  applyThroughGates,
  type Gatekeepers,
  gatekeepers,
  recordCalls,
  send,
  TEST_OUTPUT,
  TODAY,
  YEAR,
} from './spbe-fixtures.js';

/**
 * Chromium from the system (Debian package `chromium`), driven by playwright-core; set
 * SPL_TEST_CHROMIUM to use another build.
 */
const CHROMIUM = process.env.SPL_TEST_CHROMIUM ?? '/usr/bin/chromium';

async function pdfText(pdf: Uint8Array): Promise<{ pages: number; text: string }> {
  const doc = await getDocument({ data: pdf, useSystemFonts: false, isEvalSupported: false }).promise;
  const parts: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    parts.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return { pages: doc.numPages, text: parts.join('\n').replace(/\s+/g, ' ') };
}

describe('the printable SPBE report of the demo hub', () => {
  let r: TestRegistry;
  let people: Gatekeepers;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set SPL_TEST_CHROMIUM`);
    r = await buildTestRegistry();
    people = await gatekeepers(r);
    const { users: _users, apiVersion: _v, ...demo } = loadDemoHub();
    await applyThroughGates(r, people, {
      ...demo,
      spbe: {
        roster: ['disdukcapil', 'dinkes'],
        reviews: [
          {
            slug: 'reviu-spl',
            reviewedOn: TODAY,
            scope: 'Reviu penggunaan SPL <tahunan> & tindak lanjut',
            findings: [
              {
                code: 'F1',
                description: 'Belum terhubung ke SPLP Nasional',
                actions: [{ code: 'A1', description: 'Daftarkan issuer SPLP', status: 'in-progress' }],
              },
            ],
          },
        ],
      },
    });
    const app = await applicationId(r, 'dinkes', 'sistem-rujukan');
    await recordCalls(r, [{ org: 'disdukcapil', api: 'kependudukan', applicationId: app, count: 1234 }]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await r?.close();
  });

  it('is an HTML page naming the demo PDs, its API, the level and the escaped review, rendered to PDF by Chromium', async () => {
    const res = await send(r, people.operator, {
      method: 'GET',
      url: `/v1/spbe/report.html?period=${YEAR}`,
    });
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const html = res.body;
    for (const name of [
      'Dinas Kependudukan dan Pencatatan Sipil',
      'Dinas Kesehatan',
      'BPJS Kesehatan',
      'Layanan Data Kependudukan',
    ])
      expect(html).toContain(name);
    expect(html).toContain('Computed level: <span class="level">3</span>');
    expect(html).toContain('Reviu penggunaan SPL &lt;tahunan&gt; &amp; tindak lanjut');
    expect(html).toContain('<svg');
    expect(html).toMatch(/not measured/);

    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
    await page.close();
    mkdirSync(TEST_OUTPUT, { recursive: true });
    writeFileSync(join(TEST_OUTPUT, 'demo-report.pdf'), pdf);
    writeFileSync(join(TEST_OUTPUT, 'demo-report.html'), html);

    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const { pages, text } = await pdfText(new Uint8Array(pdf));
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(6);
    for (const expected of [
      'Tingkat Kematangan Penggunaan Sistem Penghubung Layanan',
      'Dinas Kependudukan dan Pencatatan Sipil',
      'Dinas Kesehatan',
      'kependudukan',
      '1,234',
      'reviu-spl',
      'Daftarkan issuer SPLP',
    ])
      expect(text).toContain(expected);
  }, 60_000);
});
