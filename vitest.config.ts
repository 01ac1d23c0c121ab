import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./local/polyfills.mjs'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: integration files share one DynamoDB Local and one S3 emulator, each file with its own tables.
    maxWorkers: 2,
    execArgv: ['--disable-warning=NodeVersionSupportWarning'],
    reporters: ['default', 'json'],
    outputFile: { json: '.offboard/test-results.json' },
  },
});
