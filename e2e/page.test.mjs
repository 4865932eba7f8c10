// Browser test of picbed's upload page, run by e2e/run.sh (make e2e)
// against a real local server: token, file input upload, synthetic paste,
// the shown Markdown and responsive HTML, the gallery's thumbnails and copy
// buttons, delete, an API error, the phone layout, screenshots.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.PICBED_URL;
const token = process.env.PICBED_TOKEN;
const out = join(here, 'out');
if (!base || !token) throw new Error('PICBED_URL and PICBED_TOKEN must be set (run e2e/run.sh)');
mkdirSync(out, { recursive: true });

let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures++;
}

// Every wait below is for an event, bounded by a minute: a hang guard for a
// loaded machine, not a timing.
async function waitHealthy() {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(base + '/healthz');
      if (r.ok) return;
    } catch (e) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not answer /healthz');
}

async function api(path, init = {}) {
  const r = await fetch(base + path, { ...init, headers: { Authorization: 'Bearer ' + token, ...(init.headers || {}) } });
  return { status: r.status, json: r.headers.get('content-type')?.includes('json') ? await r.json() : null };
}

// sendPNG draws a w x h PNG in the page (rects: [colour, x, y, w, h],
// the rest transparent) and hands it to the page as a synthetic paste or
// drop named name.
async function sendPNG(page, how, name, w, h, rects) {
  await page.evaluate(async ([how, name, w, h, rects]) => {
    const c = document.createElement('canvas');
    c.width = w; c.height = h;
    const g = c.getContext('2d');
    for (const [colour, x, y, rw, rh] of rects) { g.fillStyle = colour; g.fillRect(x, y, rw, rh); }
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], name, { type: 'image/png' }));
    if (how === 'drop') document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    else document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, [how, name, w, h, rects]);
}

await waitHealthy();
const profile = mkdtempSync(join(tmpdir(), 'picbed-e2e-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const problems = [];
try {
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(60000);
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push('console error: ' + m.text());
    if (/Content.Security.Policy/i.test(m.text())) problems.push('CSP violation: ' + m.text());
  });

  await page.goto(base + '/');
  await page.locator('#login').waitFor({ state: 'visible' });
  check(true, 'the page asks for the token');

  check(!(await page.isVisible('#signout')), '"Forget token" is hidden while no token is set');

  // A wrong token shows the server's message and is not kept.
  await page.fill('#token', 'wrong-token-0123456789');
  await page.click('#login-form button');
  await page.waitForFunction(() => document.getElementById('login-msg').textContent.length > 0);
  const loginMsg = await page.textContent('#login-msg');
  check(/token/i.test(loginMsg), 'a wrong token shows the API message: ' + JSON.stringify(loginMsg));

  await page.fill('#token', token);
  await page.click('#login-form button');
  await page.locator('#app').waitFor({ state: 'visible' });
  check(await page.evaluate(() => localStorage.getItem('picbed.token')) === token, 'the token is kept in localStorage');

  // 1. The file input, with a real phone photo.
  await page.setInputFiles('#files', join(here, '..', 'testdata', 'phone.jpg'));
  const first = page.locator('.upload.done').first();
  await first.waitFor();
  const md1 = await first.locator('input.md').inputValue();
  const url1 = await first.locator('input.url').inputValue();
  const mdRe = new RegExp('^!\\[phone\\]\\(' + base.replace(/[.]/g, '\\.') + '/f/img/\\d{4}/\\d{2}/[0-9a-f]+\\.jpg\\)$');
  check(mdRe.test(md1), 'the file upload shows its Markdown: ' + md1);
  check(md1 === '![phone](' + url1 + ')', 'the Markdown links the shown URL');
  // Wait for the image's own load or error event (the 400 px variant is made
  // on its first request): the outcome decides, not how soon it is looked at.
  const thumbOK = await first.locator('img.thumb').evaluate((img) => new Promise((done) => {
    const ok = () => done(img.naturalWidth > 0 && img.src.startsWith('http'));
    if (img.complete) return ok();
    img.addEventListener('load', ok, { once: true });
    img.addEventListener('error', () => done(false), { once: true });
  }));
  check(thumbOK, 'the thumbnail loads from the link URL (CSP img-src allows it)');
  // The page writes the clipboard after the upload shows as done, and says
  // so once the write has settled: read it only then.
  await first.locator('p.status', { hasText: /^Uploaded\./ }).waitFor();
  let clip = '';
  try { clip = await page.evaluate(() => navigator.clipboard.readText()); } catch (e) { clip = 'unreadable: ' + e.message; }
  check(clip === md1, 'the Markdown was put on the clipboard: ' + JSON.stringify(clip));

  // 2. A synthetic paste of a PNG drawn in a canvas.
  await sendPNG(page, 'paste', 'image.png', 120, 80, [['#2563eb', 0, 0, 120, 80], ['#fff', 20, 20, 40, 40]]);
  await page.locator('.upload.done').nth(1).waitFor();
  const md2 = await page.locator('.upload.done').first().locator('input.md').inputValue();
  check(/^!\[image\]\(http:\/\/127\.0\.0\.1:\d+\/f\/img\/.+\.png\)$/.test(md2), 'the pasted PNG shows its Markdown: ' + md2);
  await page.screenshot({ path: join(out, 'desktop-upload.png'), fullPage: true });
  const key1 = url1.slice((base + '/f/').length);
  const key2 = md2.match(/\/f\/(img\/[^)]+)\)$/)[1];

  // 3. A synthetic drop, with the "max width" option set.
  await page.click('.options summary');
  await page.fill('#opt-w', '64');
  await sendPNG(page, 'drop', 'dropped.png', 120, 80, [['#15803d', 0, 0, 120, 80]]);
  await page.locator('.upload.done').nth(2).waitFor();
  const facts = await page.locator('.upload.done').first().locator('.facts').textContent();
  check(/^64×4[23] png/.test(facts), 'a dropped file is uploaded with the max width option: ' + facts);
  await page.fill('#opt-w', '');
  await page.click('.options summary');

  // 4. A file that is not an image: the API's message is shown.
  await page.setInputFiles('#files', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image at all') });
  await page.locator('.upload.failed').first().waitFor();
  const errText = await page.locator('.upload.failed .status').first().textContent();
  check(/JPEG|PNG|image/.test(errText), 'a refused file shows the API message: ' + JSON.stringify(errText));
  const failedShows = await page.locator('.upload.failed').first().evaluate((li) => ({
    imgs: li.querySelectorAll('img').length, placeholder: !!li.querySelector('.placeholder') }));
  check(failedShows.imgs === 0 && failedShows.placeholder, 'a refused file shows a sign, not a broken image: ' + JSON.stringify(failedShows));

  // 4b. The responsive HTML of the photo (1600x1200): srcset, sizes, width/height.
  const html1 = await page.locator('.upload.done').last().locator('input.html').inputValue();
  check(html1.includes('srcset="' + url1 + '?w=400 400w, ' + url1 + '?w=640 640w') && html1.includes(url1 + ' 1600w"') &&
    html1.includes('width="1600" height="1200"') && html1.includes('loading="lazy" decoding="async"'),
  'the upload shows the responsive HTML: ' + html1);

  // 4c. A white logo on a transparent background, pasted.
  await sendPNG(page, 'paste', 'white-logo.png', 300, 200, [['#fff', 30, 60, 240, 80]]);
  await page.locator('.upload.done').nth(3).waitFor();

  // 5. The gallery, fresh from GET /api/images after a reload (the token
  //    comes back from localStorage).
  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#gallery .tile').nth(1).waitFor();
  const keys = await page.$$eval('#gallery .tile', (ts) => ts.map((t) => t.dataset.key));
  check(keys.includes(key1) && keys.includes(key2), 'the gallery lists the uploads: ' + keys.join(', '));
  check(keys.indexOf(key2) < keys.indexOf(key1), 'the gallery is newest first');
  const galleryImgs = await page.$$eval('#gallery .tile img', (is) => Promise.all(is.map((i) => new Promise((done) => {
    if (i.complete) return done(i.naturalWidth > 0);
    i.addEventListener('load', () => done(i.naturalWidth > 0), { once: true });
    i.addEventListener('error', () => done(false), { once: true });
  }))).then((rs) => rs.length > 0 && rs.every(Boolean)));
  check(galleryImgs, 'the gallery thumbnails load');
  const photoTile = page.locator('#gallery .tile[data-key="' + key1 + '"]');
  const thumb = await photoTile.locator('img').evaluate((i) => ({ src: i.src, w: i.naturalWidth, h: i.naturalHeight }));
  check(thumb.src === url1 + '?w=400' && thumb.w === 400 && thumb.h === 300, 'the gallery shows the 400 px thumbnail, not the full photo: ' + JSON.stringify(thumb));
  const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
  check(!fetched.includes(url1), 'the gallery never downloads the full-size photo');
  check((await photoTile.locator('.name').textContent()) === 'phone.jpg', 'a tile shows the file name');
  const checker = await page.$eval('#gallery .tile .pic img', (i) => getComputedStyle(i).backgroundImage);
  check(/conic-gradient/.test(checker), 'tile images sit on a checkerboard (white on transparent shows): ' + checker.slice(0, 40));
  await photoTile.locator('button', { hasText: 'HTML' }).click();
  await photoTile.locator('p.status', { hasText: /HTML copied|refused/ }).waitFor(); // the write has settled
  let clipHTML = '';
  try { clipHTML = await page.evaluate(() => navigator.clipboard.readText()); } catch (e) { clipHTML = 'unreadable: ' + e.message; }
  check(clipHTML === html1, 'the tile\'s HTML button copies the responsive <img>: ' + clipHTML.slice(0, 80));
  await page.screenshot({ path: join(out, 'desktop-gallery.png'), fullPage: true });

  // 6. Delete the photo: two clicks (the second confirms). The first arms
  //    the button for 4 s; both clicks run in one task so that no timer can
  //    disarm it between them, however slow the machine.
  const tile = page.locator('#gallery .tile[data-key="' + key1 + '"]');
  await tile.locator('button.danger').waitFor({ state: 'visible' });
  const armed = await tile.locator('button.danger').evaluate((b) => { b.click(); const t = b.textContent; b.click(); return t; });
  check(armed.includes('Really'), 'delete asks for a second click: ' + JSON.stringify(armed));
  await tile.waitFor({ state: 'detached' });
  const listed = await api('/api/images');
  check(listed.status === 200 && !listed.json.images.some((i) => i.key === key1) && listed.json.images.some((i) => i.key === key2),
    'the API no longer lists the deleted image, and still lists the other');
  check((await fetch(url1)).status === 404, 'the deleted image is gone from /f/');
  check((await fetch(url1 + '?w=400')).status === 404, 'its thumbnail went with it');

  // 7. A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('#gallery .tile').first().waitFor();
  await page.setInputFiles('#files', join(here, '..', 'testdata', 'logo.png'));
  await page.locator('.upload.done').first().waitFor();
  const dropText = await page.locator('#drop').innerText();
  check(!/Ctrl|paste/i.test(dropText), 'the phone layout does not ask to paste with Ctrl/⌘ V: ' + JSON.stringify(dropText));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, 'nothing overflows a 390 px wide screen (overflow ' + overflow + ' px)');
  await page.screenshot({ path: join(out, 'phone.png'), fullPage: true });

  check(problems.length === 0, 'no page errors, console errors or CSP violations' + (problems.length ? ': ' + problems.join(' | ') : ''));
} catch (e) {
  check(false, 'the test ran to the end: ' + (e && e.stack || e));
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(failures ? `e2e: ${failures} check(s) failed` : 'e2e: all checks passed; screenshots in e2e/out/');
process.exit(failures ? 1 : 0);
