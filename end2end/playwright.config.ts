import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as crypto from 'node:crypto';

// The servers under test, all started by Playwright before the tests and stopped after:
//  - `sealpost demo` (development mailbox, demo tenant) on E2E_PORT, for the newcomer's journey;
//  - maildev, a real SMTP server with a REST API the tests read mail from;
//  - `sealpost serve` sending through maildev on E2E_PORT + 1, where each test makes its own
//    tenant with the CLI.
// The config file is read by the runner and by each worker; the directories are made once and
// handed on through the environment.
const port = Number(process.env.SEALPOST_E2E_PORT ?? 18480);
const smtpPort = port + 2;
const maildevWeb = port + 3;
// The mail server's SMTP listener (the smart host), for the relay throughput benchmark.
const smartHost = port + 4;
process.env.SEALPOST_E2E_SMART_HOST = String(smartHost);
const bin = process.env.SEALPOST_BIN ?? path.resolve(__dirname, '../target/release/sealpost');
process.env.SEALPOST_BIN = bin;
process.env.SEALPOST_E2E_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-e2e-'));
const root = process.env.SEALPOST_E2E_DIR;
process.env.SEALPOST_E2E_MAIL_DIR = path.join(root, 'mail-server');
process.env.SEALPOST_E2E_MAIL_URL = `http://127.0.0.1:${port + 1}`;
process.env.SEALPOST_E2E_MAILDEV = `http://127.0.0.1:${maildevWeb}`;

// The tenant the root keys below belong to (by its domain): the Customer Key journey makes it.
const CUSTOMER_KEY_DOMAIN = 'fabrikam-customer-key.example';
process.env.SEALPOST_E2E_CUSTOMER_KEY_DOMAIN = CUSTOMER_KEY_DOMAIN;

// Two root keys in key files for the mail server, so tests can make data encryption policies
// (the PKCS#11 variant is tested against SoftHSM2 in the server's suite). Made once; the runner
// and every worker read this file.
const keysDir = path.join(root, 'root-keys');
fs.mkdirSync(keysDir, { recursive: true });
const rootKeys = ['vault-a', 'vault-b'].map((name) => {
  const file = path.join(keysDir, `${name}.key`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(32), { mode: 0o600 });
  return `[[root_keys]]\nname = "${name}"\nprovider = "file"\npath = ${JSON.stringify(file)}\n` +
    `tenant = "${CUSTOMER_KEY_DOMAIN}"\n`;
});
const mailConfig = path.join(root, 'mail-server.toml');
fs.writeFileSync(mailConfig, rootKeys.join('\n'));

// The sign-in choices: a third `sealpost serve` on E2E_PORT + 5, reached as `localhost` (a passkey's
// relying party must be a host name, not an address), with a real OpenID provider (the npm package
// oidc-provider, support/oidc-provider.mjs) on E2E_PORT + 6 as its one identity provider.
const signInPort = port + 5;
const oidcPort = port + 6;
process.env.SEALPOST_E2E_SIGN_IN_URL = `http://localhost:${signInPort}`;
process.env.SEALPOST_E2E_SIGN_IN_DIR = path.join(root, 'sign-in-server');
process.env.SEALPOST_E2E_OIDC_URL = `http://localhost:${oidcPort}`;
const oidcSecret = 'e2e-client-secret';
const signInConfig = path.join(root, 'sign-in-server.toml');
fs.writeFileSync(signInConfig, [
  `public_url = "http://localhost:${signInPort}"`,
  '',
  '[[identity_providers]]',
  'id = "loopback-id"',
  'name = "Loopback ID"',
  `issuer = "http://localhost:${oidcPort}"`,
  'client_id = "sealpost-e2e"',
  `client_secret = "${oidcSecret}"`,
  '',
].join('\n'));

export default defineConfig({
  testDir: './tests',
  globalTeardown: './support/teardown.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
  },
  projects: [
    {
      name: 'chromium',
      testDir: './tests',
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
    {
      // Firefox ESR over WebDriver (support/webdriver.ts): these tests start their own browser.
      name: 'firefox',
      testDir: './webdriver',
    },
    {
      // WebKit (WebKitGTK's MiniBrowser, Safari's engine) over WebDriver: the recipient's core
      // journeys, through a TLS proxy (support/tls-proxy.ts). Not the social sign-in: its provider
      // sends the browser back to the test server's configured plain-http address, where WebKit
      // keeps no Secure cookie (a deployment's address is https).
      name: 'webkit',
      testDir: './webdriver',
      testIgnore: 'sign-in-choices.spec.ts',
    },
  ],
  webServer: [
    {
      command:
        `node "${path.resolve(__dirname, 'support/oidc-provider.mjs')}" ${oidcPort} sealpost-e2e ${oidcSecret} ` +
        `http://localhost:${signInPort}/api/sign-in/callback`,
      url: `http://localhost:${oidcPort}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      command: `"${bin}" serve`,
      url: `http://localhost:${signInPort}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SEALPOST_CONFIG: signInConfig,
        SEALPOST_LISTEN: `127.0.0.1:${signInPort}`,
        SEALPOST_DATA_DIR: path.join(root, 'sign-in-server'),
        SEALPOST_LOG_FORMAT: 'json',
        SEALPOST_SMTP_HOST: '127.0.0.1',
        SEALPOST_SMTP_PORT: String(smtpPort),
        SEALPOST_SMTP_TLS: 'none',
      },
    },
    {
      command: `"${bin}" demo`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SEALPOST_LISTEN: `127.0.0.1:${port}`,
        SEALPOST_DATA_DIR: path.join(root, 'demo'),
        SEALPOST_LOG_FORMAT: 'json',
      },
    },
    {
      command:
        `"${path.resolve(__dirname, 'node_modules/.bin/maildev')}" --ip 127.0.0.1 ` +
        `--smtp ${smtpPort} --web ${maildevWeb} --mail-directory "${path.join(root, 'maildev')}" --silent`,
      url: `http://127.0.0.1:${maildevWeb}/email`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      command: `"${bin}" serve`,
      url: `http://127.0.0.1:${port + 1}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
      env: {
        SEALPOST_CONFIG: mailConfig,
        SEALPOST_LISTEN: `127.0.0.1:${port + 1}`,
        SEALPOST_DATA_DIR: path.join(root, 'mail-server'),
        SEALPOST_LOG_FORMAT: 'json',
        SEALPOST_SMTP_HOST: '127.0.0.1',
        SEALPOST_SMTP_PORT: String(smtpPort),
        SEALPOST_SMTP_TLS: 'none',
        SEALPOST_SMTP_LISTEN: `127.0.0.1:${smartHost}`,
        // scripts/bench measures the load on PostgreSQL too: the same server on a database URL.
        ...(process.env.SEALPOST_BENCH_DATABASE_URL
          ? { SEALPOST_DATABASE_URL: process.env.SEALPOST_BENCH_DATABASE_URL }
          : {}),
      },
    },
  ],
});
