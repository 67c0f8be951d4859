// A small W3C WebDriver client for the journeys in Firefox and WebKit (end2end/webdriver/):
// Playwright cannot drive Debian's Firefox ESR or WebKitGTK, their own drivers can. A Firefox
// session starts its own geckodriver on a free port and a headless Firefox; a WebKit session
// starts an X server of its own (Xvfb: WebKitGTK's MiniBrowser has no headless mode), then
// WebKitWebDriver, which starts the MiniBrowser. `close()` stops all of them.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from '@playwright/test';
import { TlsProxy } from './tls-proxy';

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

/** Every process and directory a session made, so a worker that exits (a hook timed out, the
 * run was stopped) leaves none of them behind. */
const running = new Set<ChildProcess>();
const directories = new Set<string>();
process.once('exit', () => {
  for (const c of running) kill(c, 'SIGKILL');
  for (const d of directories) fs.rmSync(d, { recursive: true, force: true });
});

/** Start `command` in a process group of its own (so what it starts, such as the MiniBrowser and
 * its WebKit processes, is stopped with it), and keep it in `running`. */
function start(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

/** Signal `child`'s whole process group. */
function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // gone already
  }
}

/** Stop a child process and what it started, and wait until it is gone (SIGKILL after 5 s). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => { child.once('exit', () => r()); });
  kill(child, 'SIGTERM');
  const late = setTimeout(() => kill(child, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(late);
  // What the group started and outlived it (a WebKit process) goes too.
  kill(child, 'SIGKILL');
}

/** A directory of its own for one session, removed with it. */
function directory(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  directories.add(d);
  return d;
}

function remove(d: string): void {
  fs.rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  directories.delete(d);
}

/** Wait until a WebDriver server answers its status. */
async function listening(base: string, what: string): Promise<void> {
  await expect.poll(async () => {
    try {
      return (await fetch(`${base}/status`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false; // not listening yet
    }
  }, { message: `${what} listens`, timeout: 10_000 }).toBe(true);
}

/** An X server on a display of its own: its number once it is ready (within 10 s). */
async function xvfb(): Promise<{ server: ChildProcess; display: string }> {
  const server = start('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  try {
    const display = await new Promise<string>((resolve, reject) => {
      let got = '';
      server.stdio[3]!.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\n')) resolve(`:${got.trim()}`);
      });
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
      setTimeout(() => reject(new Error('Xvfb did not start within 10 s')), 10_000);
    });
    return { server, display };
  } catch (e) {
    await stop(server);
    throw e;
  }
}

/** Which browser engine a session drives. */
export type Engine = 'firefox' | 'webkit';

export class Browser {
  private constructor(
    readonly engine: Engine,
    private readonly children: ChildProcess[],
    private base: string,
    readonly profile: string,
  ) {}

  /** Where this browser saves downloads, without asking (removed on close). */
  downloads = '';

  /** Start a session of `engine`. */
  static async start(engine: Engine): Promise<Browser> {
    return engine === 'firefox' ? Browser.firefox() : Browser.webkit();
  }

  /** Start an X server, WebKitWebDriver on it, and a MiniBrowser session (WebKitGTK). */
  static async webkit(): Promise<Browser> {
    const { server, display } = await xvfb();
    // The MiniBrowser keeps its caches and settings and saves downloads under its home: a
    // directory of its own. It is shown on the X server, never on a desktop's display.
    const profile = directory('sealpost-webkit-');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DISPLAY: display,
      GDK_BACKEND: 'x11',
      HOME: profile,
      XDG_CACHE_HOME: path.join(profile, 'cache'),
      XDG_CONFIG_HOME: path.join(profile, 'config'),
      XDG_DATA_HOME: path.join(profile, 'data'),
    };
    delete env.WAYLAND_DISPLAY;
    const wk = new Browser('webkit', [server], '', profile);
    wk.downloads = profile;
    try {
      const port = await freePort();
      const driver = start(process.env.WEBKIT_WEBDRIVER ?? 'WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore', env });
      wk.children.push(driver);
      wk.base = `http://127.0.0.1:${port}`;
      await listening(wk.base, 'WebKitWebDriver');
      const created = await wk.call('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            // The TLS proxy's own certificate (see `goto`).
            acceptInsecureCerts: true,
            'webkitgtk:browserOptions': {
              binary: process.env.WEBKIT_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
              args: ['--automation'],
            },
          },
        },
      });
      wk.session = created.sessionId;
    } catch (e) {
      await wk.close();
      throw e;
    }
    return wk;
  }

  /** Start geckodriver and a headless Firefox ESR session. */
  static async firefox(): Promise<Browser> {
    const profile = directory('sealpost-firefox-');
    const ff = new Browser('firefox', [], '', profile);
    ff.downloads = directory('sealpost-firefox-downloads-');
    try {
      const port = await freePort();
      const bin = process.env.GECKODRIVER ?? path.join(os.homedir(), '.cargo/bin/geckodriver');
      ff.children.push(start(bin, ['--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore' }));
      ff.base = `http://127.0.0.1:${port}`;
      await listening(ff.base, 'geckodriver');
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
    } catch (e) {
      await ff.close();
      throw e;
    }
    return ff;
  }

  private session = '';

  private async call(method: string, route: string, body?: unknown): Promise<any> {
    // No command may hang a test: a browser that stopped answering fails it instead.
    const res = await fetch(`${this.base}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(method === 'DELETE' ? 10_000 : 60_000),
    });
    const json = (await res.json()) as { value: any };
    if (!res.ok) throw new Error(`WebDriver ${method} ${route}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  private s(route: string): string {
    return `/session/${this.session}${route}`;
  }

  /** A TLS proxy per http origin this WebKit session visits (see support/tls-proxy.ts). */
  private proxies = new Map<string, TlsProxy>();

  /** Open `url`; in WebKit, an http address through a TLS proxy of its own. */
  async goto(url: string): Promise<void> {
    let to = url;
    if (this.engine === 'webkit' && url.startsWith('http://')) {
      const origin = new URL(url).origin;
      let proxy = this.proxies.get(origin);
      if (!proxy) {
        proxy = await TlsProxy.start(origin);
        this.proxies.set(origin, proxy);
      }
      to = proxy.reach(url, origin);
    }
    await this.call('POST', this.s('/url'), { url: to });
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

  /** End the session, stop the browser, its driver (and X server), and remove the profile. */
  async close(): Promise<void> {
    try {
      if (this.session) await this.call('DELETE', this.s(''));
    } catch {
      // A browser that does not end its session is stopped below all the same.
    } finally {
      this.session = '';
      for (const c of [...this.children].reverse()) await stop(c);
      for (const p of this.proxies.values()) await p.close();
      remove(this.profile);
      if (this.downloads && this.downloads !== this.profile) remove(this.downloads);
    }
  }
}
