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
    ],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
