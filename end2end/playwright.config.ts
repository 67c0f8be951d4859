import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

// The server under test is the release binary built by scripts/test, on its own port, with a
// throwaway data directory. Playwright starts it before the tests and stops it after.
const port = Number(process.env.SEALPOST_E2E_PORT ?? 18480);
const bin = process.env.SEALPOST_BIN ?? path.resolve(__dirname, '../target/release/sealpost');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-e2e-'));

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          // Debian's Chromium: Playwright cannot download browsers here.
          executablePath: process.env.CHROMIUM_BIN ?? '/usr/lib/chromium/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
  webServer: {
    command: `"${bin}" demo`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    env: {
      SEALPOST_LISTEN: `127.0.0.1:${port}`,
      SEALPOST_DATA_DIR: dataDir,
      SEALPOST_DIST_DIR: path.resolve(__dirname, '../dist'),
      SEALPOST_LOG_FORMAT: 'json',
    },
  },
});
