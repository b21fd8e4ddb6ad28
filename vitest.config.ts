import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*', 'demo', 'deploy'].map((root) => ({
      extends: true,
      test: {
        name: root.replace('/*', ''),
        include: [`${root}/test/**/*.test.ts`],
      },
    })),
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
