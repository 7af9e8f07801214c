import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (`lib/**/*.test.ts`, `services/**/*.test.ts`); system tests
// (HTTP, crash, cluster) in `test/`. Process tests build `dist/` first (test/global-setup.ts).
export default defineConfig({
  test: {
    include: ['lib/**/*.test.ts', 'services/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
