// PicGo 3 (PicGo-Core, from npm) with picgo-plugin-web-uploader, both
// unchanged, against a running picbed: what the README's PicGo recipe
// promises, and what PicGo really does when picbed refuses an upload.
// Run by e2e/run.sh (make e2e) with PICBED_URL and PICBED_TOKEN set.
import { PicGo } from 'picgo';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.PICBED_URL;
const token = process.env.PICBED_TOKEN;
if (!base || !token) throw new Error('PICBED_URL and PICBED_TOKEN must be set (run e2e/run.sh)');
const photo = join(here, '..', '..', 'testdata', 'logo.png');

let failures = 0;
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + 'picgo: ' + what);
  if (!ok) failures++;
}

// upload runs one PicGo upload with the web-uploader settings s (the
// fields of the README's table) and returns the image PicGo reports, the
// notifications it raised and the error it threw, if any.
// PicGo writes its log on a timer after upload returns, so the config
// directories are removed only when the process exits.
const root = mkdtempSync(join(tmpdir(), 'picbed-picgo-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let runs = 0;

async function upload(s) {
  const dir = join(root, String(++runs));
  mkdirSync(dir);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(join(here, 'node_modules', 'picgo-plugin-web-uploader'), join(dir, 'node_modules', 'picgo-plugin-web-uploader'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ dependencies: { 'picgo-plugin-web-uploader': '1.1.1' } }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    picBed: { current: 'web-uploader', uploader: 'web-uploader', 'web-uploader': s },
    picgoPlugins: { 'picgo-plugin-web-uploader': true },
  }));
  const picgo = new PicGo(join(dir, 'config.json'));
  const notes = [];
  picgo.on('notification', (n) => notes.push(n));
  let out = [];
  let err = null;
  try { out = await picgo.upload([photo]); } catch (e) { err = e; }
  return { img: out[0] || {}, notes, err };
}

const settings = (over) => ({
  url: base + '/upload', paramName: 'file', jsonPath: 'url',
  customHeader: JSON.stringify({ Authorization: 'Bearer ' + token }), customBody: '', ...over,
});

// 1. The recipe: jsonPath "url".
const ok = await upload(settings({}));
check(!ok.err && /^http:\/\/127\.0\.0\.1:\d+\/f\/img\/.+\.png$/.test(ok.img.imgUrl || ''), 'the README settings give the link: ' + ok.img.imgUrl);
check(ok.img.imgUrl && (await fetch(ok.img.imgUrl)).status === 200, 'the link PicGo reports serves the image');

// 2. customBody options reach picbed (the README's example).
const small = await upload(settings({ customBody: JSON.stringify({ w: '100', format: 'webp' }) }));
check(/\.webp$/.test(small.img.imgUrl || ''), 'customBody {"w", "format"} are picbed options: ' + small.img.imgUrl);

// 3. What PicGo does with a refused upload (here a wrong token, 401): the
//    plugin catches the error, raises a "上传失败" notification holding
//    picbed's answer, and PicGo goes on as if it had succeeded, with no
//    link. The README says so; this pins it.
const refused = await upload(settings({ customHeader: JSON.stringify({ Authorization: 'Bearer wrong-token-0123456789' }) }));
check(!refused.err && !refused.img.imgUrl, 'a 401 is not an error to PicGo: no exception, empty link (' + JSON.stringify(refused.img.imgUrl) + ')');
const note = refused.notes.find((n) => n.title === '上传失败');
check(note && note.body.includes('"statusCode":401') && note.body.includes('the upload token is wrong'),
  'the only sign is a "上传失败" notification carrying picbed\'s message: ' + (note ? note.body.slice(0, 120) : 'none'));

// 4. jsonPath "markdown" hands PicGo Markdown where it expects a URL (its
//    GUI then wraps it once more): the README recommends "url" only.
const md = await upload(settings({ jsonPath: 'markdown' }));
check(/^!\[logo\]\(http/.test(md.img.imgUrl || ''), 'jsonPath "markdown" makes PicGo\'s "URL" a Markdown line: ' + md.img.imgUrl);

console.log(failures ? `picgo: ${failures} check(s) failed` : 'picgo: all checks passed');
process.exit(failures ? 1 : 0);
