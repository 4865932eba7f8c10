package imageproc

import (
	"context"
	"image"
	"image/draw"
	"os"
	"path/filepath"

	"picbed/imageproc/internal/vp8"
	"picbed/imageproc/internal/wasmcodec"
)

// The HEIC, AVIF and WebP codecs run as WebAssembly (internal/wasmcodec).
// Compiling them costs ~0.6 s of CPU once per process; PrepareCodecs moves
// that off the first request, and a compilation cache filled at build time
// (FillCodecCache, `make build`) makes it a few milliseconds of loading.

// CodecCacheDir is the name of the compilation cache shipped next to the
// executable (dist/code/wasmcache in the FC zip).
const CodecCacheDir = "wasmcache"

// PrepareCodecs links a shipped compilation cache (the CodecCacheDir next
// to the executable, read-only on FC) into a writable one under
// os.TempDir, uses it, and compiles or loads every codec module. Call it
// once at process start, in the background: a request that needs a codec
// meanwhile waits for the same compilation instead of starting its own.
func PrepareCodecs() error {
	dir := filepath.Join(os.TempDir(), "picbed-wasmcache")
	if exe, err := os.Executable(); err == nil {
		if err := wasmcodec.SeedCache(filepath.Join(filepath.Dir(exe), CodecCacheDir), dir); err != nil {
			return err
		}
	}
	return FillCodecCache(dir)
}

// FillCodecCache compiles every codec module into the compilation cache dir
// (the build ships it as CodecCacheDir beside the executable).
func FillCodecCache(dir string) error {
	wasmcodec.UseCacheDir(dir)
	if err := wasmcodec.Warm(); err != nil {
		return err
	}
	return wasmcodec.CacheError()
}

// decodeHEIC decodes a grid's tiles (or a single-image HEIC as one tile)
// with libde265 on both cores (heifgrid.go) and anything else with libheif
// whole; either way the picture comes out as displayed (irot applied).
func decodeHEIC(ctx context.Context, src []byte) (image.Image, error) {
	if g, ok := parseHEICGrid(src); ok {
		m, err := g.decode(ctx)
		if err != nil {
			return nil, err
		}
		return orient(m, g.orientation), nil
	}
	return wasmcodec.DecodeHEIC(ctx, src)
}

// encodeWebP hands libwebp a lossy picture's 4:2:0 planes as they are
// (range-converted, see webpPlanes), an *image.NRGBA as it is, an opaque
// *image.RGBA as it is (identical then), anything else converted to RGBA.
func encodeWebP(img image.Image, o wasmcodec.WebPOptions) ([]byte, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if m, ok := img.(*image.YCbCr); ok {
		if webpPlanes(m, o) {
			return wasmcodec.EncodeWebPYUV420(context.Background(), w, h, o, func(y, u, v []byte) {
				vp8.FromYCbCr(y, u, v, m)
			})
		}
		img = toRGBA(m) // draw's fast YCbCr path writes RGBA
		b = img.Bounds()
	}
	var pix []byte
	switch m := img.(type) {
	case *image.NRGBA:
		if m.Stride == 4*w && b.Min == (image.Point{}) {
			pix = m.Pix[:4*w*h]
		}
	case *image.RGBA:
		if m.Stride == 4*w && b.Min == (image.Point{}) && m.Opaque() {
			pix = m.Pix[:4*w*h]
		}
	}
	if pix == nil {
		n := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.Draw(n, n.Rect, img, b.Min, draw.Src)
		pix = n.Pix
	}
	return wasmcodec.EncodeWebP(context.Background(), pix, w, h, o)
}

// webpPlanes reports whether encodeWebP takes m's planes straight: lossy
// WebP is 4:2:0 limited-range BT.601, so a 4:2:0 picture only changes
// range (JPEG, HEIC and the pipeline's resized planes are full-range).
func webpPlanes(m *image.YCbCr, o wasmcodec.WebPOptions) bool {
	return !o.Lossless && m.SubsampleRatio == image.YCbCrSubsampleRatio420 && m.Rect.Min == (image.Point{})
}

// UseCodecCache makes dir (writable) the codecs' compilation cache without
// compiling anything yet; PrepareCodecs is what the server calls.
func UseCodecCache(dir string) { wasmcodec.UseCacheDir(dir) }
