// sharp.mjs runs picbed's standard job with sharp (libvips), the peer the
// performance issue measures picbed against: auto-orient, fit 1920x1920
// (never enlarge), the logo at 15 % of the output width and 70 % opacity in
// the bottom-right corner, metadata stripped (sharp's default), JPEG q82.
//
// Usage: node sharp.mjs SHARP_DIR PHOTO_DIR OUT_DIR REPS [one FILE]
// With FORMAT=webp in the environment the job writes lossy WebP q82 instead;
// with JOB=plain it leaves the watermark out.
// Prints one JSON line per photo: cpu and wall milliseconds per job (means
// over REPS after one warm-up), output bytes; `one FILE` runs a single job
// and prints the process's peak RSS (for the 120 MiB comparison).
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, basename, resolve } from 'node:path';

const [sharpDir, photoDir, outDir, repsArg, mode, oneFile] = process.argv.slice(2);
const sharp = createRequire(resolve(sharpDir, 'package.json'))('sharp');
sharp.cache(false); // every job pays its own decode, like one FC invocation
const reps = Number(repsArg) || 3;
const format = process.env.FORMAT === 'webp' ? 'webp' : 'jpeg';
const logo = readFileSync(join(photoDir, 'logo.png'));

// standard is the job; the logo is scaled per photo like picbed does.
async function standard(src) {
  if (process.env.JOB === 'plain') {
    return sharp(src).rotate().resize(1920, 1920, { fit: 'inside', withoutEnlargement: true })
      .toFormat(format, { quality: 82 }).toBuffer();
  }
  const meta = await sharp(src).metadata();
  const turned = (meta.orientation || 1) >= 5;
  const w = turned ? meta.height : meta.width, h = turned ? meta.width : meta.height;
  const ow = Math.round(w * Math.min(1, 1920 / w, 1920 / h));
  const mark = await sharp(logo).resize(Math.round(ow * 0.15))
    .ensureAlpha().linear([1, 1, 1, 0.7], [0, 0, 0, 0]).png({ compressionLevel: 0 }).toBuffer();
  return sharp(src).rotate()
    .resize(1920, 1920, { fit: 'inside', withoutEnlargement: true })
    .composite([{ input: mark, gravity: 'southeast' }])
    .toFormat(format, { quality: 82 })
    .toBuffer();
}


if (mode === 'one') {
  const out = await standard(readFileSync(oneFile));
  console.log(JSON.stringify({ file: basename(oneFile), bytes: out.length,
    peak_mib: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const files = readdirSync(join(photoDir, 'std')).filter((f) => f.endsWith('.jpg')).sort();
for (const f of files) {
  const src = readFileSync(join(photoDir, 'std', f));
  let out = await standard(src); // warm-up
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) out = await standard(src);
  const c = process.cpuUsage(c0), t = Number(process.hrtime.bigint() - t0) / 1e6;
  writeFileSync(join(outDir, format === 'webp' ? f.replace(/\.jpg$/, '.webp') : f), out);
  console.log(JSON.stringify({ file: f, cpu_ms: (c.user + c.system) / 1000 / reps, wall_ms: t / reps, bytes: out.length }));
}
