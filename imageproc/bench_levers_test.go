package imageproc

// BenchmarkLevers measures each codec lever of the standard job on its own,
// old way against new way, on one 12 MP photo of the benchmark set (skipped
// without it: `make bench` makes the set). CPU time is reported beside wall
// time because the two cores are shared.

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"syscall"
	"testing"
	"time"

	"picbed/imageproc/internal/jpegx"
	"picbed/imageproc/internal/resample"

	xdraw "golang.org/x/image/draw"
)

func BenchmarkLevers(b *testing.B) {
	src, err := os.ReadFile("../bench/photos/std/p01.jpg")
	if err != nil {
		b.Skip("no bench photos: run `make bench` (scripts/make-photos.sh)")
	}
	full, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		b.Fatal(err)
	}
	half, err := jpegx.Decode(src, 2)
	if err != nil {
		b.Fatal(err)
	}
	const w, h = 1920, 1440
	out := resample.Resize(half, w, h, resample.Lanczos3)
	levers := []struct {
		name string
		run  func()
	}{
		{"decode/image-jpeg-full", func() { jpeg.Decode(bytes.NewReader(src)) }},
		{"decode/jpegx-half", func() { jpegx.Decode(src, 2) }},
		{"resize/xdraw-catmullrom-from-full", func() { xdrawScale(full, w, h) }},
		{"resize/xdraw-catmullrom-from-half", func() { xdrawScale(half, w, h) }},
		{"resize/planar-catmullrom-from-half", func() { resample.Resize(half, w, h, resample.CatmullRom) }},
		{"resize/planar-lanczos3-from-half", func() { resample.Resize(half, w, h, resample.Lanczos3) }},
		{"encode/image-jpeg-nrgba", func() { jpeg.Encode(&bytes.Buffer{}, (*image.NRGBA)(out), &jpeg.Options{Quality: 82}) }},
		{"encode/image-jpeg-rgba", func() { jpeg.Encode(&bytes.Buffer{}, out, &jpeg.Options{Quality: 82}) }},
		{"encode/jpegx", func() { jpegx.Encode(out, 82) }},
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
