#!/usr/bin/env python3
# vipsthumbnail.py runs libvips' vipsthumbnail (Debian libvips-tools: libheif
# + libde265) on picbed's HEIC benchmark job, the peer for "iPhone HEIC ->
# fit 1920 JPEG q82, metadata stripped": one warm-up, then REPS runs per
# photo, and prints one JSON line per photo: mean CPU (user+system of the
# child processes) and wall milliseconds, output bytes, peak RSS (MiB).
#
# Usage: vipsthumbnail.py OUT_DIR REPS FILE...
import json, os, resource, subprocess, sys, time

out_dir, reps, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
os.makedirs(out_dir, exist_ok=True)

def run(src, dst):
    subprocess.run(["vipsthumbnail", src, "--size", "1920x1920", "-o", dst + "[Q=82,strip]"], check=True)

for f in files:
    name = os.path.basename(f)
    dst = os.path.join(os.path.abspath(out_dir), name.rsplit(".", 1)[0] + ".jpg")
    run(f, dst)  # warm-up (page cache)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(reps):
        run(f, dst)
    t = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"file": name, "cpu_ms": cpu * 1000 / reps, "wall_ms": t * 1000 / reps,
                      "bytes": os.path.getsize(dst), "peak_mib": r1.ru_maxrss / 1024}), flush=True)
