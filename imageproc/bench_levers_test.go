package imageproc

// BenchmarkLevers measures each codec lever of the standard job on its own,
// the plain pure-Go way against the way production runs (decode, resize and
// encode are the same functions Process calls), on one 12 MP photo of the
// benchmark set (skipped without it: `make bench` makes the set). CPU time
// is reported beside wall time because the two cores are shared.

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"picbed/imageproc/internal/jpegx"
	"picbed/imageproc/internal/quality"
	"picbed/imageproc/internal/vp8"
	"picbed/imageproc/internal/wasmcodec"

	"github.com/disintegration/imaging"
	xdraw "golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"
)

// leverPhotos is the photo set, as in bench_test.go (another package).
var leverPhotos = cmp.Or(os.Getenv("BENCH_PHOTOS"), "../bench/photos")

func BenchmarkLevers(b *testing.B) {
	src, h := leverPhoto(b)
	const w, ht = 1920, 1440
	scale := float64(w) / float64(h.Width)
	full, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	decoded, err := decode(context.Background(), src, h, scale) // what production decodes (luma full, chroma 1/2)
	if err != nil {
		b.Fatal(err)
	}
	out := resized(b, decoded, w, ht).(*image.YCbCr)
	levers := []struct {
		name string
		run  func()
	}{
		{"decode/image-jpeg-full", func() { jpeg.Decode(bytes.NewReader(src)) }},
		{"decode/jpegx-half", func() { jpegx.Decode(context.Background(), src, 2) }},
		{"decode/production", func() { decode(context.Background(), src, h, scale) }},
		{"resize/xdraw-catmullrom-from-full", func() { xdrawScale(full, w, ht) }},
		{"resize/production-planes-lanczos3", func() { resize(decoded, decoded.Bounds().Size(), w, ht) }},
		{"encode/image-jpeg-ycbcr", func() { jpeg.Encode(&bytes.Buffer{}, out, &jpeg.Options{Quality: 82}) }},
		{"encode/production-jpegx", func() { encode(out, JPEG, 82) }},
	}
	for _, l := range levers {
		b.Run(l.name, func(b *testing.B) {
			c0 := leverCPU()
			for i := 0; i < b.N; i++ {
				l.run()
			}
			b.ReportMetric(float64((leverCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// leverPhoto is the 12 MP photo the levers run on, and its header; the
// benchmark skips without the photo set.
func leverPhoto(b *testing.B) ([]byte, Header) {
	src, err := os.ReadFile(filepath.Join(leverPhotos, "std/p01.jpg"))
	if err != nil {
		b.Skip("no bench photos: run `make bench` (scripts/make-photos.sh)")
	}
	h, err := ReadHeader(src)
	if err != nil {
		b.Fatal(err)
	}
	return src, h
}

func xdrawScale(m image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Rect, m, m.Bounds(), xdraw.Src, nil)
	return dst
}

func leverCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHEICLevers: a 12 MP iPhone-style grid decoded whole by libheif
// (one core, what gen2brain/heic did) against tile by tile on both cores.
func BenchmarkHEICLevers(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(leverPhotos, "heic/h01.heic"))
	if err != nil {
		b.Skip("no bench HEIC: run scripts/make-photos.sh")
	}
	ctx := context.Background()
	if _, err := decodeHEIC(ctx, src); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	for _, l := range []struct {
		name string
		run  func() (image.Image, error)
	}{
		{"libheif-whole", func() (image.Image, error) { return wasmcodec.DecodeHEIC(ctx, src) }},
		{"tiles-2-workers", func() (image.Image, error) { return decodeHEIC(ctx, src) }},
	} {
		b.Run(l.name, func(b *testing.B) {
			c0 := leverCPU()
			for i := 0; i < b.N; i++ {
				if _, err := l.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((leverCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkWebPLevers: libwebp's method (effort) for the standard job's
// 1920x1440 picture at q82, handed over as RGBA or as the pipeline's 4:2:0
// planes: CPU, bytes and SSIM against the pixels encoded.
func BenchmarkWebPLevers(b *testing.B) {
	src, h := leverPhoto(b)
	m, err := decode(context.Background(), src, h, 1920.0/float64(h.Width))
	if err != nil {
		b.Fatal(err)
	}
	planes := resized(b, m, 1920, 1440)
	rgba := toRGBA(planes)
	for _, c := range []struct {
		in        string
		method, q int
	}{{"planes", 4, 82}, {"rgba", 4, 82}, {"planes", 2, 82}, {"planes", 3, 82}, {"planes", 4, 80}} {
		method, pix := c.method, image.Image(rgba)
		if c.in == "planes" {
			pix = planes
		}
		b.Run(fmt.Sprintf("%s-method-%d-q%d", c.in, method, c.q), func(b *testing.B) {
			var out []byte
			c0 := leverCPU()
			for i := 0; i < b.N; i++ {
				if out, err = encodeWebP(pix, wasmcodec.WebPOptions{Quality: c.q, Method: method}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((leverCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(out)), "out-B")
			got, err := xwebp.Decode(bytes.NewReader(out))
			if err != nil {
				b.Fatal(err)
			}
			if c, ok := vp8.ToNRGBA(got); ok {
				got = c
			}
			s, err := quality.Compare(got, rgba, image.Rectangle{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(s.SSIM, "ssim")
		})
	}
}

// BenchmarkRGBALevers: the general path (alpha PNG/GIF/WebP sources), a
// 12 MP translucent NRGBA fitted to 1920 and turned: x/image/draw's
// Catmull-Rom and the hand-written turn against disintegration/imaging.
func BenchmarkRGBALevers(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(leverPhotos, "std/p01.jpg"))
	if err != nil {
		b.Skip("no bench photos: run `make bench` (scripts/make-photos.sh)")
	}
	m, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	n := image.NewNRGBA(m.Bounds())
	xdraw.Draw(n, n.Rect, m, image.Point{}, xdraw.Src)
	for i := 3; i < len(n.Pix); i += 4 {
		n.Pix[i] = uint8(i / 4 % 256) // translucent stripes
	}
	small := imaging.Resize(n, 1920, 1440, imaging.Lanczos)
	for _, l := range []struct {
		name string
		run  func()
	}{
		{"resize/xdraw-catmullrom", func() { xdrawScale(n, 1920, 1440) }},
		{"resize/imaging-lanczos", func() { imaging.Resize(n, 1920, 1440, imaging.Lanczos) }},
		{"resize/imaging-catmullrom", func() { imaging.Resize(n, 1920, 1440, imaging.CatmullRom) }},
		{"orient6/hand-written-rgba", func() { orientRGBALoop(toRGBA(small), 6) }},
		{"orient6/imaging", func() { imaging.Rotate270(small) }},
	} {
		b.Run(l.name, func(b *testing.B) {
			c0 := leverCPU()
			for i := 0; i < b.N; i++ {
				l.run()
			}
			b.ReportMetric(float64((leverCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// orientRGBALoop is the per-pixel turn orient used before imaging (kept
// here only to measure against).
func orientRGBALoop(src *image.RGBA, o int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := sw, sh
	if swapsSides(o) {
		dw, dh = sh, sw
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+dw*4]
		for x := 0; x < dw; x++ {
			sx, sy := y, sh-1-x // o == 6
			i := sy*src.Stride + sx*4
			copy(row[x*4:x*4+4], src.Pix[i:i+4])
		}
	}
	return dst
}
