#!/bin/sh
# build.sh rebuilds ../de265.wasm.gz: libde265 from Debian bookworm's source
# package (1.0.11 with Debian's security patches) and tile.c, compiled to
# WebAssembly with WebAssembly SIMD. Needs (Debian bookworm): clang-14,
# lld-14, wasi-libc, libc++-14-dev-wasm32, libc++abi-14-dev-wasm32,
# libclang-rt-14-dev-wasm32, dpkg-dev, binaryen, curl.
#
#   sh imageproc/internal/wasmcodec/lib/de265/build.sh
#
# libde265 is LGPL-3.0-or-later (../LICENSE.libde265); tile.c and compat/
# are picbed's, under the same licence as the library they adapt.
#
# The same tools give the same bytes: no timestamps or paths end up in the
# module (-ffile-prefix-map, no debug info), and gzip -n stores no name or
# time.
set -eu

VERSION=1.0.11
DEBIAN=1.0.11-1+deb12u2
POOL=http://deb.debian.org/debian/pool/main/libd/libde265
# the .dsc's own, and the two files' as it lists them (Checksums-Sha256)
DSC_SHA256=3f42b562a89db54867cbc7f101b73fc581ac9a0b397637c61d9f41e8bbf13332
ORIG_SHA256=2f8f12cabbdb15e53532b7c1eb964d4e15d444db1be802505e6ac97a25035bab
DEBIAN_SHA256=81de2919da09690f2fb80383fcc68cda397bfed878a010061627f7794e278f4b

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
fi
work=$WORK
mkdir -p "$work"
cd "$work"

for f in libde265_$DEBIAN.dsc libde265_$VERSION.orig.tar.gz libde265_$DEBIAN.debian.tar.xz; do
	[ -f "$f" ] || curl -fsSLO "$POOL/$f"
done
echo "$DSC_SHA256  libde265_$DEBIAN.dsc" | sha256sum -c -
echo "$ORIG_SHA256  libde265_$VERSION.orig.tar.gz" | sha256sum -c -
echo "$DEBIAN_SHA256  libde265_$DEBIAN.debian.tar.xz" | sha256sum -c -
rm -rf src
dpkg-source --no-check -x libde265_$DEBIAN.dsc src >/dev/null

CC="clang-14 --target=wasm32-wasi"
CXX="clang++-14 --target=wasm32-wasi"
# -msimd128: WebAssembly SIMD, which wazero's compiler turns into SSE; the
# loops of the inverse transforms, prediction and filters vectorise. No
# threads (compat/ stands in for pthread.h and <mutex>), no exceptions;
# motion.cc includes <signal.h> but uses nothing of it (_WASI_EMULATED_SIGNAL).
# HAVE_SSE4_1: libde265 pads its planes for 16-byte vector access and calls
# init_acceleration_functions_sse, which accel.cc defines: the inverse DCTs
# of x86/sse-dct.cc, whose SSE2 intrinsics compat/emmintrin.h maps to
# WebAssembly SIMD.
FLAGS="-O3 -DNDEBUG -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext -ffile-prefix-map=$work=. -ffile-prefix-map=$here=de265 \
	-DLIBDE265_STATIC_BUILD -DHAVE_POSIX_MEMALIGN -D_WASI_EMULATED_SIGNAL -DHAVE_SSE4_1 -I$here/compat -Isrc -Isrc/libde265"

sed -e 's/@NUMERIC_VERSION@/0x01001100/' -e "s/@PACKAGE_VERSION@/$VERSION/" \
	src/libde265/de265-version.h.in > src/libde265/de265-version.h

# the decoder's sources (the list in libde265/CMakeLists.txt without the
# encoder's en265.cc and configparam.cc, and without the x86 SSE code)
SRCS="alloc_pool bitstream cabac contextmodel de265 deblock decctx dpb
	fallback-dct fallback-motion fallback image image-io intrapred md5 motion
	nal-parser nal pps quality refpic sao scan sei slice sps threads transform
	util visualize vps vui"
mkdir -p obj
objs=
for s in $SRCS; do
	$CXX $FLAGS -std=c++11 -fno-exceptions -fno-rtti -Wno-unused-variable -c src/libde265/$s.cc -o obj/$s.o
	objs="$objs obj/$s.o"
done
for s in x86/sse-dct "$here/accel"; do
	$CXX $FLAGS -std=c++11 -fno-exceptions -fno-rtti -Wno-unused-variable -c $(echo "$s" | sed 's|^x86|src/libde265/x86|').cc -o obj/$(basename "$s").o
	objs="$objs obj/$(basename "$s").o"
done
$CC $FLAGS -c "$here/tile.c" -o obj/tile.o

# linked without -O: clang would run wasm-opt itself, without the features
$CXX -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext -mexec-model=reactor \
	-Wl,--no-entry -Wl,--export=malloc -Wl,--export=free -Wl,--strip-all -Wl,--gc-sections \
	-o de265.wasm obj/tile.o $objs -lc++ -lc++abi
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
	de265.wasm -o de265.opt.wasm
gzip -9 -n -c de265.opt.wasm > "$here/../de265.wasm.gz"
ls -l de265.wasm de265.opt.wasm "$here/../de265.wasm.gz"
