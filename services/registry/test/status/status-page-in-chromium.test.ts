import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestRegistry, type TestRegistry } from '../helpers/test-registry.js';
import { insertProbes, insertSlaVersion } from '../sla/sla-fixtures.js';

/** Debian's chromium (scripts/install-test-tools.sh); CHROMIUM_PATH overrides. */
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
/** Git-ignored (.spl/), so the picture can be looked at after the run. */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../.spl/test-artifacts');

/**
 * The 90 days shown end today (UTC; tokens need the real clock, so the days are relative).
 * disdukcapil/kependudukan v1 (publik, target 95 %), 10 probes a day from 10:00:
 *
 *   today − 4   10 down, all inside a maintenance window   → no data, marked maintenance
 *   today − 3   10 up                                      → up (green)
 *   today − 2    9 up, 1 down = 90 %                       → degraded (below 95 %, not below 90 %)
 *   today − 1    5 up, then 5 down = 50 %                  → down (red); current state: down
 *   today and the 85 days before today − 4                 → no data (grey)
 *
 * dinkes/rujukan v1 is dikecualikan: on the operator view only.
 */
const DAY_MS = 24 * 3_600_000;
const TODAY = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const day = (n: number) => new Date(TODAY - n * DAY_MS).toISOString().slice(0, 10);
const at = (n: number, hour = 10) => new Date(TODAY - n * DAY_MS + hour * 3_600_000);

describe.runIf(CHROMIUM !== undefined)('the status page in headless Chromium', () => {
  let r: TestRegistry;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    r = await buildTestRegistry({ env: { SPL_PROBE_SECONDS: '0' } });
    const a = await insertSlaVersion(r, {
      org: 'disdukcapil',
      api: 'kependudukan',
      classification: 'publik',
    });
    const b = await insertSlaVersion(r, { org: 'dinkes', api: 'rujukan', classification: 'dikecualikan' });
    await insertSlaVersion(r, { org: 'disdukcapil', api: 'kependudukan', version: 'v2', state: 'draft' });
    await insertProbes(r, a.versionId, at(4), Array(10).fill(false));
    await insertProbes(r, a.versionId, at(3), Array(10).fill(true));
    await insertProbes(r, a.versionId, at(2), [...Array(9).fill(true), false]);
    await insertProbes(r, a.versionId, at(1), [...Array(5).fill(true), ...Array(5).fill(false)]);
    await insertProbes(r, b.versionId, at(1), Array(10).fill(true));
    const res = await r.app.inject({
      method: 'POST',
      url: '/v1/apis/disdukcapil/kependudukan/maintenance-windows',
      headers: bearer(await r.operatorToken()),
      payload: {
        startsAt: at(4, 9).toISOString(),
        endsAt: at(4, 12).toISOString(),
        reason: 'Pembaruan server',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    base = await r.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await r?.close();
  });

  it('shows published public APIs with one bar per day matching the stored probes', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(msg.text());
    });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    const res = await page.goto(`${base}/status`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('Status SPL');

    const sections = page.locator('section[data-api]');
    expect(await sections.evaluateAll((els) => els.map((e) => e.getAttribute('data-api')))).toEqual([
      'disdukcapil/kependudukan/v1',
    ]);
    const bars = page.locator('section[data-api="disdukcapil/kependudukan/v1"] .bar');
    expect(await bars.count()).toBe(90);
    const days = await bars.evaluateAll((els) =>
      els.map((e) => [
        e.getAttribute('data-day'),
        e.getAttribute('data-verdict'),
        e.getAttribute('data-maintenance'),
      ]),
    );
    expect(days[0]).toEqual([day(89), 'nodata', 'false']);
    expect(days.slice(-5)).toEqual([
      [day(4), 'nodata', 'true'],
      [day(3), 'up', 'false'],
      [day(2), 'degraded', 'false'],
      [day(1), 'down', 'false'],
      [day(0), 'nodata', 'false'],
    ]);
    expect(days.slice(0, -5).every(([, verdict, m]) => verdict === 'nodata' && m === 'false')).toBe(true);
    expect(await bars.nth(87).getAttribute('title')).toBe(`${day(2)}: 90.00 % (9/10 probe)`);

    // The inline style is allowed by its hash: the bars are coloured, nothing was blocked.
    // Runs in the page; the test's TypeScript has no DOM library, hence the cast.
    type Window = { getComputedStyle(e: unknown): { getPropertyValue(p: string): string } };
    const colour = (i: number, property: string) =>
      bars
        .nth(i)
        .evaluate(
          (e, p) => (globalThis as unknown as Window).getComputedStyle(e).getPropertyValue(p),
          property,
        );
    expect(await colour(86, 'background-color')).toBe('rgb(45, 164, 78)');
    expect(await colour(87, 'background-color')).toBe('rgb(212, 167, 44)');
    expect(await colour(88, 'background-color')).toBe('rgb(207, 34, 46)');
    expect(await colour(89, 'background-color')).toBe('rgb(208, 215, 222)');
    expect(await colour(85, 'border-top-color')).toBe('rgb(9, 105, 218)');
    expect(await page.locator('section[data-api="disdukcapil/kependudukan/v1"] .state').textContent()).toBe(
      'Gangguan',
    );
    expect(problems).toEqual([]);
    expect(requests).toEqual([`${base}/status`]);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(1000);
    await context.close();
  });

  it('shows the operator every API, dikecualikan ones too, and nobody without a token', async () => {
    expect((await fetch(`${base}/v1/status`)).status).toBe(401);
    const context = await browser.newContext({ extraHTTPHeaders: bearer(await r.operatorToken()) });
    const page = await context.newPage();
    expect((await page.goto(`${base}/v1/status`))?.status()).toBe(200);
    expect(
      await page
        .locator('section[data-api]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-classification'))),
    ).toEqual(['dikecualikan', 'publik']);
    const last = page.locator('section[data-api="dinkes/rujukan/v1"] .bar').nth(88);
    expect(await last.getAttribute('data-verdict')).toBe('up');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-operator.png'), fullPage: true });
    await context.close();
  });
});
