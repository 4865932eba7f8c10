#!/bin/sh
# Builds webp.wasm.gz: libwebp 1.2.4 from Debian bookworm's source package
# (with Debian's security patches, applied by dpkg-source) and webp.c, for
# wasm32-wasi with 128-bit SIMD. libwebp's SSE2 code (the encoder's
# transforms, quantiser and distortion metrics) is compiled to WebAssembly
# SIMD through the SSE-to-wasm_simd128 headers of Debian's emscripten
# source package (MIT/UIUC, headers only, used at build time), as libwebp's
# own Emscripten build does (src/dsp/cpu.c: EMSCRIPTEN -> wasmCPUInfo).
#
# Needs (Debian bookworm): clang-14, lld-14, wasi-libc,
# libclang-rt-14-dev-wasm32, dpkg-dev, binaryen (wasm-opt), curl, xz-utils.
# Usage: imageproc/internal/wasmcodec/lib/webp-build.sh  (writes next to
# itself, or into $OUT; $WORK keeps the downloads between runs)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here}
work=${WORK:-$(mktemp -d)}
pool=http://deb.debian.org/debian/pool/main
CC=${CC:-clang-14}

fetch() { # url sha256
	f=$(basename "$1")
	[ -f "$f" ] || curl -fsS -o "$f" "$1"
	echo "$2  $f" | sha256sum -c --quiet -
}

cd "$work"
fetch $pool/libw/libwebp/libwebp_1.2.4-0.2+deb12u1.dsc d9ed0b59e2010f255c28d0869fd15b31f9b08aed757bfc91862d43aa9ec1aa99
fetch $pool/libw/libwebp/libwebp_1.2.4.orig.tar.gz 7bf5a8a28cc69bcfa8cb214f2c3095703c6b73ac5fba4d5480c205331d9494df
fetch $pool/libw/libwebp/libwebp_1.2.4.orig.tar.gz.asc 4c546cf7f757a70d8803ab850e69d28e7ce06e66dbee003fd3ede7346543851a
fetch $pool/libw/libwebp/libwebp_1.2.4-0.2+deb12u1.debian.tar.xz 69cdba4dfe2e1b34d55fa80c1b29c31cacd40dd183812d6bcca7e508a2f7afcd
fetch "$pool/e/emscripten/emscripten_3.1.6~dfsg.orig.tar.xz" 0a91953cc63b118b9553649de48a2d0731e668690b1f5f0189468fe892fa2c1a

rm -rf libwebp compat
dpkg-source -x libwebp_1.2.4-0.2+deb12u1.dsc libwebp >/dev/null
tar -xJf 'emscripten_3.1.6~dfsg.orig.tar.xz' --strip-components=3 \
	emscripten-3.1.6/system/include/compat/xmmintrin.h \
	emscripten-3.1.6/system/include/compat/emmintrin.h
tar -xJOf 'emscripten_3.1.6~dfsg.orig.tar.xz' emscripten-3.1.6/LICENSE >LICENSE.emscripten

# -D__SSE2__ and -DEMSCRIPTEN: libwebp's *_sse2.c are compiled (to wasm
# SIMD) and chosen at run time by cpu.c's wasm branch. SSE4.1 stays off.
flags="--target=wasm32-wasi -O3 -msimd128 -mnontrapping-fptoint -DNDEBUG -w
	-D__SSE__ -D__SSE2__ -DEMSCRIPTEN -Icompat -Ilibwebp -Ilibwebp/src"
srcs=$(ls libwebp/src/dec/*.c libwebp/src/enc/*.c libwebp/src/dsp/*.c \
	libwebp/src/utils/*.c libwebp/src/demux/*.c libwebp/sharpyuv/*.c |
	grep -v -e _neon -e _mips -e _msa -e _sse41)
# shellcheck disable=SC2086
$CC $flags -mexec-model=reactor -Wl,--no-entry \
	-Wl,--export=malloc -Wl,--export=free -Wl,--export=decode \
	-Wl,--export=encode -Wl,--export=encode_yuv420 \
	-o webp.wasm "$here/webp.c" $srcs
wasm-opt -O3 --enable-simd --enable-nontrapping-float-to-int \
	--enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	-o webp.opt.wasm webp.wasm
gzip -9n <webp.opt.wasm >"$out/webp.wasm.gz"
cp libwebp/COPYING "$out/LICENSE.libwebp"
cp LICENSE.emscripten "$out/LICENSE.emscripten"
ls -l "$out/webp.wasm.gz"
