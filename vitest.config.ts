import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'mappers/**/*.test.ts', 'test/**/*.test.ts', 'proto/**/*.test.ts'],
    exclude: ['test/container/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
