// A small W3C WebDriver client for the journeys in Firefox (end2end/firefox/): Playwright cannot
// drive Debian's Firefox ESR, geckodriver can. Each session starts its own geckodriver on a free
// port and a headless Firefox, and `close()` stops both.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from '@playwright/test';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export class Firefox {
  private constructor(
    private readonly driver: ChildProcess,
    private readonly base: string,
    readonly profile: string,
  ) {}

  /** Where this Firefox saves downloads, without asking (removed on close). */
  downloads = '';

  /** Start geckodriver and a headless Firefox ESR session. */
  static async start(): Promise<Firefox> {
    const port = await freePort();
    const bin = process.env.GECKODRIVER ?? path.join(os.homedir(), '.cargo/bin/geckodriver');
    const driver = spawn(bin, ['--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore' });
    const base = `http://127.0.0.1:${port}`;
    try {
      await expect.poll(async () => {
        try {
          return (await fetch(`${base}/status`)).ok;
        } catch {
          return false; // not listening yet
        }
      }, { message: 'geckodriver listens', timeout: 10_000 }).toBe(true);
    } catch (e) {
      driver.kill();
      throw e;
    }
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-firefox-'));
    const ff = new Firefox(driver, base, profile);
    ff.downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'sealpost-firefox-downloads-'));
    const created = await ff.call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'firefox',
          'moz:firefoxOptions': {
            binary: process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr',
            args: ['-headless', '-profile', profile],
            prefs: {
              'intl.accept_languages': 'en-US',
              // Downloads go to ff.downloads at once, never through a dialog.
              'browser.download.folderList': 2,
              'browser.download.dir': ff.downloads,
              'browser.download.useDownloadDir': true,
              'browser.download.always_ask_before_handling_new_types': false,
              'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream',
              'browser.download.manager.showWhenStarting': false,
            },
          },
        },
      },
    });
    ff.session = created.sessionId;
    return ff;
  }

  private session = '';

  private async call(method: string, route: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.base}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { value: any };
    if (!res.ok) throw new Error(`WebDriver ${method} ${route}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  private s(route: string): string {
    return `/session/${this.session}${route}`;
  }

  async goto(url: string): Promise<void> {
    await this.call('POST', this.s('/url'), { url });
  }

  /** Run `script` (a function body; `arguments` are `args`) in the page and return its value. */
  async run<T>(script: string, ...args: unknown[]): Promise<T> {
    return this.call('POST', this.s('/execute/async'), {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve((async () => { ${script} })(...arguments)).then(done, (e) => done({ __error: String(e) }));`,
      args,
    }).then((v) => {
      if (v && typeof v === 'object' && '__error' in v) throw new Error(v.__error);
      return v as T;
    });
  }

  /** Wait until `predicate` (a JavaScript expression) is true in the page. */
  async waitFor(predicate: string, what: string, timeoutMs = 15_000): Promise<void> {
    await expect
      .poll(() => this.run<boolean>(`return Boolean(${predicate});`), { message: what, timeout: timeoutMs })
      .toBe(true);
  }

  /** The element with `data-testid`, once it is there. */
  async byTestId(id: string, within = ''): Promise<string> {
    const css = `${within} [data-testid="${id}"]`.trim();
    await this.waitFor(`document.querySelector(${JSON.stringify(css)})`, css);
    const found = await this.call('POST', this.s('/element'), { using: 'css selector', value: css });
    return found[ELEMENT];
  }

  /** How many elements have `data-testid` now. */
  async count(id: string): Promise<number> {
    return this.run<number>(`return document.querySelectorAll('[data-testid="${id}"]').length;`);
  }

  async click(id: string, within = ''): Promise<void> {
    await this.call('POST', this.s(`/element/${await this.byTestId(id, within)}/click`), {});
  }

  async type(id: string, text: string): Promise<void> {
    await this.call('POST', this.s(`/element/${await this.byTestId(id)}/value`), { text });
  }

  async text(id: string, within = ''): Promise<string> {
    return this.call('GET', this.s(`/element/${await this.byTestId(id, within)}/text`));
  }

  /** End the session, stop Firefox and geckodriver, and remove the profile. */
  async close(): Promise<void> {
    try {
      if (this.session) await this.call('DELETE', this.s(''));
    } finally {
      if (this.driver.exitCode === null && this.driver.signalCode === null) {
        const exited = new Promise((r) => this.driver.once('exit', r));
        this.driver.kill();
        await exited;
      }
      fs.rmSync(this.profile, { recursive: true, force: true });
      if (this.downloads) fs.rmSync(this.downloads, { recursive: true, force: true });
    }
  }
}
