import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The benchmarks (scripts/bench): the same browser and servers as the tests, one worker, long
// timeouts. Timings are recorded and reported, never asserted.
export default defineConfig({
  ...base,
  testDir: './bench',
  projects: [{ ...base.projects![0], testDir: './bench' }],
  timeout: 20 * 60_000,
});
