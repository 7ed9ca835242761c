// Drives the aligngate dashboard in headless Chromium (run from
// dashboard/browser_test.go): log in through the form, print "ready", wait
// for the record the Go test adds then, open it, check the original and
// corrected text and the highlighted change, check the experiment's arms,
// and save screenshots at desktop and phone widths.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';

const base = process.env.ALIGNGATE_UI_URL;
const key = process.env.ALIGNGATE_ADMIN_KEY;
const out = process.env.ALIGNGATE_ARTIFACTS || os.tmpdir();
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(base && key, 'ALIGNGATE_UI_URL and ALIGNGATE_ADMIN_KEY must be set');
// ALIGNGATE_EXPECT (JSON) names the record to find when the Go side makes a
// real correction (cmd/aligngate); the default is dashboard/browser_test.go's.
const expected = process.env.ALIGNGATE_EXPECT ? JSON.parse(process.env.ALIGNGATE_EXPECT) : {
  question: 'Where does the quokka sleep?',
  original: 'The quokka naps under a warm rock.',
  corrected: 'The quokka rests under a shaded rock.',
  inserted: ['rests', 'shaded'],
  deleted: ['naps', 'warm'],
  experiment: 'helpfulness',
  arms: ['control', 'treatment'],
};

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(base + '/ui/');
  await page.fill('#key', key);
  await Promise.all([page.waitForURL(base + '/ui/'), page.click('button[type=submit]')]);
  await page.waitForSelector('#records');
  await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length > 0);
  const before = await page.locator('#records tbody tr').count();
  console.log('ready');

  // The Go side adds a record now; the page must show it without reloading.
  await page.waitForFunction((n) => document.querySelectorAll('#records tbody tr').length > n, before);
  const row = page.locator('#records tbody tr').first();
  assert.match(await row.innerText(), /corrected/);
  await row.locator('button').click();
  await page.waitForFunction(() => document.querySelector('#d-question').textContent !== '');
  assert.equal(await page.textContent('#d-question'), expected.question);
  assert.equal(await page.textContent('#d-original'), expected.original);
  assert.equal(await page.textContent('#d-corrected'), expected.corrected);
  const ins = await page.locator('#d-diff ins').allTextContents();
  const del = await page.locator('#d-diff del').allTextContents();
  assert.ok(ins.length + del.length > 0, 'no highlighted change');
  for (const w of expected.inserted ?? []) assert.ok(ins.join(' ').includes(w), 'inserted: ' + ins);
  for (const w of expected.deleted ?? []) assert.ok(del.join(' ').includes(w), 'deleted: ' + del);

  if (expected.arms) {
    const arms = await page.locator(`table.arms[data-experiment="${expected.experiment}"] tbody tr`).evaluateAll(
      (rows) => rows.map((r) => r.getAttribute('data-arm')));
    assert.deepEqual(arms.sort(), expected.arms);
  }

  const desktop = path.join(out, 'dashboard-1280x800.png');
  await page.screenshot({ path: desktop, fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#detail').scrollIntoViewIfNeeded();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px phone`);
  const phone = path.join(out, 'dashboard-390x844.png');
  await page.screenshot({ path: phone, fullPage: true });

  assert.deepEqual(errors, [], 'page errors');
  console.log('screenshots ' + desktop + ' ' + phone);
  console.log('ok');
} finally {
  await browser.close();
}
