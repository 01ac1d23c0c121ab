import { configDefaults, defineConfig } from 'vitest/config';

// The suite runs on Node 20 and 22+; the SDK's notice about Node 20 is not news here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// CONTRACT.md planning: within a request a plan may take 1.2 s before it is left to the planning workflow; the
// suite's two loaded cores would send even the demo world there now and then. The size limits (services/planning.ts
// PlanBudget) still apply, so the background path is taken exactly where a test builds a large user, or sets it.
process.env.PLAN_INLINE_MS ??= '60000';

const LEAST_PRIVILEGE = 'test/least-privilege/*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // The browser tests wait with expect.poll for what a page shows after its API calls: 1 s (vitest's default)
    // is less than those calls take on two loaded cores.
    expect: { poll: { timeout: 15_000, interval: 100 } },
    hookTimeout: 120_000,
    // Two cores: integration files share one DynamoDB Local and one S3 emulator, each file with its own tables.
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.offboard/test-results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, LEAST_PRIVILEGE],
          setupFiles: ['./local/polyfills.mjs'],
          globalSetup: ['./test/global-setup.ts'],
        },
      },
      {
        // after every other file (groupOrder): reads what the integration tests' functions used (.offboard/iam-usage/)
        extends: true,
        test: { name: 'least-privilege', include: [LEAST_PRIVILEGE], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
