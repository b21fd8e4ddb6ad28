import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      ...['packages/*', 'services/*', 'demo', 'deploy'].map((root) => ({
        extends: true,
        test: {
          name: root.replace('/*', ''),
          include: [`${root}/test/**/*.test.ts`],
        },
      })),
      // Hostile input across the three services (issue 6 §3): docs/hardening.md.
      { extends: true, test: { name: 'hostile', include: ['test/hostile/**/*.test.ts'] } },
      // OWASP API Security Top 10 (2023), one file per item, against the real services (issue 6 §4).
      // Files of one worker share one hub (test/owasp/hub.ts), dropped by the global setup.
      {
        extends: true,
        test: {
          name: 'owasp',
          include: ['test/owasp/**/*.test.ts'],
          isolate: false,
          globalSetup: ['test/owasp/global-setup.ts'],
        },
      },
      // The soak's verdict on synthetic samples (bench/soak): no hub, no processes.
      { extends: true, test: { name: 'bench', include: ['bench/**/*.test.ts'] } },
      // The fault suite runs the whole hub on the demo upstream's port 8090, as the quick-start
      // test does: a later group, so it starts only after every other project has finished.
      {
        extends: true,
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
    pool: 'forks',
    // Vitest's default in run mode is one worker less than the cores: one worker on the 2-core
    // machine the test command is budgeted for (15 min). Most files wait on PostgreSQL, Redis
    // or child processes rather than compute, so two workers there finish in about two thirds
    // of the time; every file has its own schema, key prefix and free ports.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
