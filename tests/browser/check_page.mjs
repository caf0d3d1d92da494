#!/usr/bin/env node
// Real-browser check of one HTML page for the perechen tests.
//
// Usage: node check_page.mjs '<json>'
//   json: {"url": "file:///…" | "http://127.0.0.1:…/…",
//          "screenshot": "/path/out.png" | null,
//          "zoom": 1.0,
//          "chromium": "/usr/bin/chromium",
//          "settle_ms": 150}
// Prints one JSON object on stdout (see tests/browser/__init__.py, PageResult).
// Exit code 0 when the page was checked (whatever it contains), 2 on a usage
// error, 1 when the browser could not check the page.

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const axe = require('axe-core');

// Desktop viewport; zoom Z is modelled as browser zoom: CSS viewport shrinks by Z
// and device pixels grow by Z (this is what Ctrl+"+" does in Chromium).
const BASE_WIDTH = 1280;
const BASE_HEIGHT = 800;

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
// Schemes that never leave the machine.
const LOCAL_SCHEMES = new Set(['file:', 'data:', 'blob:', 'about:', 'chrome-error:']);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-breakpad',
  '--no-pings',
  '--metrics-recording-only',
  '--disable-dev-shm-usage',
  // Browser-internal traffic (update checks, account lookups) must not even
  // reach DNS: every host but the loopback resolves to "not found".
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  // No --disable-features here: a second one would replace Playwright's own list.
];
// Extra switches for debugging, e.g. PERECHEN_CHROMIUM_ARGS="--log-net-log=/tmp/net.json".
const EXTRA_ARGS = (process.env.PERECHEN_CHROMIUM_ARGS || '').split(/\s+/).filter(Boolean);

function isExternal(rawUrl) {
  let u;
  try {
    u = new URL(rawUrl);
  } catch {
    return true;
  }
  if (LOCAL_SCHEMES.has(u.protocol)) return false;
  return !LOCAL_HOSTS.has(u.hostname);
}

function jsonSafe(value) {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value));
  } catch {
    return String(value);
  }
}

async function main() {
  const t0 = performance.now();
  if (process.argv.length < 3) {
    process.stderr.write('usage: node check_page.mjs \'{"url": "..."}\'\n');
    process.exit(2);
  }
  const opts = JSON.parse(process.argv[2]);
  const url = opts.url;
  const zoom = Number(opts.zoom ?? 1.0);
  const settleMs = Number(opts.settle_ms ?? 150);
  if (!url || !(zoom > 0)) {
    process.stderr.write('url and a positive zoom are required\n');
    process.exit(2);
  }

  const consoleErrors = [];
  const dialogs = [];
  const externalRequests = [];
  const blocked = new Set();
  const timings = {};

  const profile = mkdtempSync(join(tmpdir(), 'perechen-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium || '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS, ...EXTRA_ARGS],
      viewport: { width: Math.round(BASE_WIDTH / zoom), height: Math.round(BASE_HEIGHT / zoom) },
      deviceScaleFactor: zoom,
      locale: 'ru-RU',
      timezoneId: 'Europe/Kaliningrad',
      serviceWorkers: 'block',
      acceptDownloads: false,
      // Never bypassCSP: the page's own CSP is part of what we test.
      timeout: 20000,
    });
    timings.launch_s = (performance.now() - t0) / 1000;

    // Anything leaving the machine is recorded and aborted at once, so a
    // closed network never makes the check wait for a connect timeout.
    await context.route('**/*', (route) => {
      const reqUrl = route.request().url();
      if (isExternal(reqUrl)) {
        externalRequests.push(reqUrl);
        blocked.add(reqUrl);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });

    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        // Blocked external loads are reported in external_requests only.
        if (loc && loc.url && blocked.has(loc.url)) return;
        const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber + 1})` : '';
        consoleErrors.push(`console: ${msg.text()}${where}`);
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    page.on('requestfailed', (req) => {
      if (blocked.has(req.url())) return;
      const f = req.failure();
      consoleErrors.push(`requestfailed: ${req.url()} (${f ? f.errorText : 'unknown'})`);
    });
    page.on('response', (resp) => {
      if (resp.status() >= 400) consoleErrors.push(`http ${resp.status()}: ${resp.url()}`);
    });
    page.on('dialog', async (dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      try {
        await dialog.dismiss();
      } catch {
        /* page already gone */
      }
    });
    page.on('websocket', (ws) => {
      if (isExternal(ws.url())) externalRequests.push(ws.url());
    });
    page.on('popup', (p) => {
      dialogs.push({ type: 'popup', message: p.url() });
      p.close().catch(() => {});
    });

    const tNav = performance.now();
    const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
    // Let late handlers (onerror of broken images, ontoggle, setTimeout 0,
    // animations) fire before the payload flag is read.
    await page.waitForTimeout(settleMs);
    timings.load_s = (performance.now() - tNav) / 1000;

    // The flag a planted payload would set, from every frame (main first).
    let jsFlag = null;
    for (const frame of page.frames()) {
      try {
        const v = await frame.evaluate(() =>
          typeof window.__pwned === 'undefined' ? { set: false } : { set: true, value: window.__pwned },
        );
        if (v.set) {
          jsFlag = v.value === undefined || v.value === null ? true : jsonSafe(v.value);
          break;
        }
      } catch {
        /* detached or cross-origin frame */
      }
    }

    const meta = await page.evaluate(() => ({
      title: document.title,
      lang: document.documentElement.getAttribute('lang'),
    }));

    // axe-core through CDP evaluation: not subject to the page's CSP, unlike
    // a <script> tag, and injected only after the payload flag was read.
    const tAxe = performance.now();
    for (const frame of page.frames()) {
      try {
        await frame.evaluate(axe.source);
      } catch {
        /* frame gone */
      }
    }
    const axeResult = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        tags: v.tags,
        nodes: v.nodes.map((n) => ({
          target: n.target,
          html: n.html,
          impact: n.impact,
          failureSummary: n.failureSummary,
        })),
      }));
    });
    timings.axe_s = (performance.now() - tAxe) / 1000;

    if (opts.screenshot) {
      const tShot = performance.now();
      await page.screenshot({ path: opts.screenshot, fullPage: true, type: 'png', animations: 'disabled' });
      timings.screenshot_s = (performance.now() - tShot) / 1000;
    }

    // 200 % zoom of a 1280 px wide window = 640 CSS px of viewport.
    await page.setViewportSize({ width: BASE_WIDTH / 2, height: BASE_HEIGHT / 2 });
    const scroll = await page.evaluate(() => {
      const el = document.scrollingElement || document.documentElement;
      return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
    });

    const result = {
      url,
      final_url: page.url(),
      status: response ? response.status() : null,
      title: meta.title,
      lang: meta.lang,
      violations: axeResult,
      console_errors: consoleErrors,
      dialogs,
      external_requests: [...new Set(externalRequests)],
      js_flag: jsFlag,
      horizontal_scroll_at_200: scroll.scrollWidth > scroll.clientWidth,
      scroll_width_at_200: scroll.scrollWidth,
      client_width_at_200: scroll.clientWidth,
      browser_version: context.browser() ? context.browser().version() : null,
      timings,
    };
    await context.close();
    context = undefined;
    result.timings.total_s = (performance.now() - t0) / 1000;
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`check_page: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
