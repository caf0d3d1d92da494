#!/usr/bin/env node
// Layout of one page in a real browser, for several views (window width, zoom, container width):
// which layout a fragment chose (table or cards), words broken inside, words wider than their cell,
// horizontal scroll, codes on more than one line, and axe-core violations.
//
// Usage: node check_layout.mjs '<json>'
//   json: {"url": "http://127.0.0.1:…/…" | "file:///…",
//          "root": ".perechen-register",          // the fragment to measure
//          "code": ".perechen-code",              // elements that must stay on one line
//          "cells": "th, td",                     // cells whose words must fit inside
//          "views": [{"name": "1280", "zoom": 1, "container": null}, …],
//          "chromium": "/usr/bin/chromium"}
//   A view's "container" (CSS px) narrows the root's parent to that width (max-width), as a CMS column would.
// Prints one JSON object: {"views": [{name, zoom, container, viewport, root_width, layouts, style_present,
//   container_type, broken_words, overwide_words, codes_wrapped, doc_scroll, root_scroll, violations}],
//   "external_requests": [...], "console_errors": [...], "browser_version": "..."}.
// Exit 0 when checked, 1 when the browser could not check the page, 2 on a usage error.

import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const axe = require('axe-core');

const BASE_WIDTH = 1280;
const BASE_HEIGHT = 800;
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const LOCAL_SCHEMES = new Set(['file:', 'data:', 'blob:', 'about:', 'chrome-error:']);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--disable-domain-reliability', '--disable-breakpad',
  '--no-pings', '--metrics-recording-only', '--disable-dev-shm-usage',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

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

// Runs inside the page.
function measure(args) {
  const { root: rootSel, code: codeSel, cells: cellSel, container } = args;
  const roots = [...document.querySelectorAll(rootSel)];
  if (!roots.length) return { error: `no element matches ${rootSel}` };
  if (container) {
    for (const r of roots) {
      const parent = r.parentElement;
      parent.style.maxWidth = `${container}px`;
      parent.style.width = `${container}px`;
      parent.style.marginLeft = '0';
      parent.style.paddingLeft = '0';
      parent.style.paddingRight = '0';
    }
  }
  // Force layout after a possible change.
  void document.body.offsetWidth;
  const WORD = /[\p{L}\p{N}]+/gu;
  const lines = (range) => {
    const tops = new Set();
    for (const rect of range.getClientRects()) {
      if (rect.width > 0 && rect.height > 0) tops.add(Math.round(rect.top));
    }
    return tops.size;
  };
  const broken = [];
  const overwide = [];
  const codesWrapped = [];
  const layouts = [];
  let style = false;
  let containerType = null;
  for (const root of roots) {
    style = style || !!root.querySelector('style');
    containerType = getComputedStyle(root).containerType || null;
    for (const t of root.querySelectorAll('table')) layouts.push(getComputedStyle(t).display === 'table' ? 'table' : 'cards');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement && n.parentElement.closest('style, script')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    // Visually hidden text (inside a 1 px clipped box, e.g. the table head of the card layout) is not read on screen.
    const clipped = (el) => {
      for (let a = el; a && a !== root; a = a.parentElement) {
        const b = a.getBoundingClientRect();
        if (b.width <= 1 || b.height <= 1) return true;
      }
      return false;
    };
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      const cs = getComputedStyle(el);
      if (cs.display === 'none' || cs.visibility === 'hidden') continue;
      if (clipped(el)) continue;
      const cell = el.closest(cellSel);
      const cellBox = cell ? cell.getBoundingClientRect() : null;
      for (const m of node.data.matchAll(WORD)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const n = lines(range);
        if (n > 1) broken.push({ word: m[0], lines: n, text: node.data.slice(0, 120) });
        if (cellBox) {
          const r = range.getBoundingClientRect();
          if (r.left < cellBox.left - 0.5 || r.right > cellBox.right + 0.5) {
            overwide.push({ word: m[0], word_width: r.width, cell_width: cellBox.width });
          }
        }
      }
    }
    for (const el of root.querySelectorAll(codeSel)) {
      // Only the code's own text (a card shows a label before it through ::before).
      for (const child of el.childNodes) {
        if (child.nodeType !== Node.TEXT_NODE || !child.data.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(child);
        const n = lines(range);
        if (n > 1) codesWrapped.push({ code: child.data.trim(), lines: n });
      }
    }
  }
  const se = document.scrollingElement || document.documentElement;
  const root = roots[0];
  return {
    viewport: window.innerWidth,
    root_width: root.getBoundingClientRect().width,
    layouts,
    style_present: style,
    container_type: containerType,
    broken_words: broken,
    overwide_words: overwide,
    codes_wrapped: codesWrapped,
    doc_scroll: { scroll_width: se.scrollWidth, client_width: se.clientWidth },
    root_scroll: { scroll_width: root.scrollWidth, client_width: root.clientWidth },
  };
}

async function main() {
  if (process.argv.length < 3) {
    process.stderr.write('usage: node check_layout.mjs \'{"url": "...", "views": [...]}\'\n');
    process.exit(2);
  }
  const opts = JSON.parse(process.argv[2]);
  if (!opts.url || !Array.isArray(opts.views) || !opts.views.length) {
    process.stderr.write('url and views are required\n');
    process.exit(2);
  }
  const externalRequests = new Set();
  const consoleErrors = [];
  const profile = mkdtempSync(join(tmpdir(), 'perechen-chromium-'));
  const browser = await chromium.launch({
    executablePath: opts.chromium || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 20000,
  });
  try {
    const views = [];
    for (const view of opts.views) {
      const zoom = Number(view.zoom ?? 1);
      const context = await browser.newContext({
        viewport: { width: Math.round(BASE_WIDTH / zoom), height: Math.round(BASE_HEIGHT / zoom) },
        deviceScaleFactor: zoom,
        locale: 'ru-RU',
        serviceWorkers: 'block',
      });
      await context.route('**/*', (route) => {
        const u = route.request().url();
        if (isExternal(u)) {
          externalRequests.add(u);
          return route.abort('blockedbyclient');
        }
        return route.continue();
      });
      const page = await context.newPage();
      page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
      await page.goto(opts.url, { waitUntil: 'load', timeout: 15000 });
      await page.evaluate(() => document.fonts.ready);
      const m = await page.evaluate(measure, {
        root: opts.root || '.perechen-register',
        code: opts.code || '.perechen-code',
        cells: opts.cells || 'th, td',
        container: view.container ?? null,
      });
      await page.evaluate(axe.source);
      const violations = await page.evaluate(async (sel) => {
        // eslint-disable-next-line no-undef
        const r = await window.axe.run(sel ? { include: [[sel]] } : document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help, tags: v.tags,
          nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, impact: n.impact })),
        }));
      }, opts.axe_scope || null);
      if (view.screenshot) await page.screenshot({ path: view.screenshot, fullPage: true });
      views.push({ name: view.name ?? String(zoom), zoom, container: view.container ?? null, ...m, violations });
      await context.close();
    }
    process.stdout.write(JSON.stringify({
      views,
      external_requests: [...externalRequests],
      console_errors: consoleErrors,
      browser_version: browser.version(),
    }) + '\n');
  } finally {
    await browser.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`check_layout: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
