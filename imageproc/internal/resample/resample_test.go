package resample

import (
	"errors"

	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"picbed/imageproc/internal/workers"
	"testing"

	"picbed/imageproc/internal/quality"

	xdraw "golang.org/x/image/draw"
)

func photo(t testing.TB, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func psnr(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	s, err := quality.Compare(a, b, image.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	return s.PSNR
}

// TestMatchesXDraw: on real photos (4:2:0 YCbCr and grey) the planar
// fixed-point Lanczos3, converted to RGBA by image/draw, is close to
// x/image/draw's Catmull-Rom on RGBA, keeps the subsampling and is opaque.
func TestMatchesXDraw(t *testing.T) {
	ph := photo(t, "../../../testdata/phone.jpg")
	gray := image.NewGray(ph.Bounds())
	draw.Draw(gray, gray.Rect, ph, image.Point{}, draw.Src)
	tests := []struct {
		name string
		src  image.Image
		w, h int
		min  float64
	}{
		{"ycbcr 1600->1200", ph, 1200, 900, 34},
		{"ycbcr 1600->333 odd", ph, 333, 251, 32},
		{"ycbcr same size", ph, 1600, 1200, 38},
		{"gray 1600->640", gray, 640, 480, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !Supported(tt.src) {
				t.Fatalf("%T not supported", tt.src)
			}
			planes, err := ResizePlanes(tt.src, tt.w, tt.h, Lanczos3)
			if err != nil {
				t.Fatal(err)
			}
			if yc, ok := planes.(*image.YCbCr); ok && yc.SubsampleRatio != tt.src.(*image.YCbCr).SubsampleRatio {
				t.Fatalf("subsampling %v, want %v", yc.SubsampleRatio, tt.src.(*image.YCbCr).SubsampleRatio)
			}
			got := image.NewRGBA(image.Rect(0, 0, tt.w, tt.h))
			draw.Draw(got, got.Rect, planes, image.Point{}, draw.Src)
			want := image.NewRGBA(image.Rect(0, 0, tt.w, tt.h))
			xdraw.CatmullRom.Scale(want, want.Rect, tt.src, tt.src.Bounds(), xdraw.Src, nil)
			if got.Rect != want.Rect {
				t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
			}
			if p := psnr(t, got, want); p < tt.min {
				t.Errorf("PSNR against x/image/draw %.1f dB, want >= %g", p, tt.min)
			}
			for i := 3; i < len(got.Pix); i += 4 {
				if got.Pix[i] != 255 {
					t.Fatalf("alpha %d at %d, want opaque", got.Pix[i], i/4)
				}
			}
		})
	}
}

// TestUnityGain: a flat picture stays exactly flat through every filter and
// ratio (the fixed-point weights sum to one).
func TestUnityGain(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 97, 61), image.YCbCrSubsampleRatio420)
	for i := range src.Y {
		src.Y[i] = 200
	}
	for i := range src.Cb {
		src.Cb[i], src.Cr[i] = 90, 160
	}
	for _, sz := range []image.Point{{97, 61}, {50, 31}, {9, 3}, {1, 1}} {
		m, err := ResizePlanes(src, sz.X, sz.Y, Lanczos3)
		if err != nil {
			t.Fatal(err)
		}
		got := m.(*image.YCbCr)
		for i, v := range got.Y {
			if v != 200 {
				t.Fatalf("%v: Y %d is %d, want 200", sz, i, v)
			}
		}
		for i := range got.Cb {
			if got.Cb[i] != 90 || got.Cr[i] != 160 {
				t.Fatalf("%v: chroma %d is %d,%d, want 90,160", sz, i, got.Cb[i], got.Cr[i])
			}
		}
	}
}

func TestWeights(t *testing.T) {
	for _, c := range []struct{ in, out int }{{4032, 1920}, {2016, 1920}, {10, 3}, {3, 3}, {2, 1}, {1, 1}} {
		ws := makeWeights(c.in, c.out, float64(c.in)/float64(c.out), Lanczos3)
		for i := 0; i < c.out; i++ {
			var sum int32
			for _, w := range ws.w[i*ws.taps : (i+1)*ws.taps] {
				sum += w
			}
			if sum != one || ws.start[i] < 0 || ws.start[i]+ws.taps > c.in {
				t.Fatalf("%d->%d: output %d has sum %d start %d taps %d", c.in, c.out, i, sum, ws.start[i], ws.taps)
			}
		}
	}
}

func BenchmarkResize(b *testing.B) {
	ph := photo(b, "../../../testdata/phone.jpg").(*image.YCbCr)
	big := image.NewYCbCr(image.Rect(0, 0, 2016, 1512), image.YCbCrSubsampleRatio420)
	xdraw.ApproxBiLinear.Scale(&rgbaShim{big}, big.Rect, ph, ph.Rect, xdraw.Src, nil)
	b.Run("planes-lanczos3", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ResizePlanes(big, 1920, 1440, Lanczos3)
		}
	})
	b.Run("xdraw-catmullrom", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dst := image.NewRGBA(image.Rect(0, 0, 1920, 1440))
			xdraw.CatmullRom.Scale(dst, dst.Rect, big, big.Rect, xdraw.Src, nil)
		}
	})
}

// rgbaShim lets x/image/draw fill a YCbCr benchmark input (content does not
// matter for timing, only that it is a real picture).
type rgbaShim struct{ *image.YCbCr }

func (s *rgbaShim) Set(x, y int, c color.Color) {
	r, g, b, _ := c.RGBA()
	yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
	s.Y[s.YOffset(x, y)] = yy
	s.Cb[s.COffset(x, y)], s.Cr[s.COffset(x, y)] = cb, cr
}

// TestWorkerPanicIsAnError: a picture whose planes are shorter than its
// rectangle makes the row workers index out of range on their own
// goroutines; that comes back as an error, not a crashed process.
func TestWorkerPanicIsAnError(t *testing.T) {
	bad := &image.Gray{Pix: make([]uint8, 1000), Stride: 1000, Rect: image.Rect(0, 0, 1000, 1000)}
	m, err := ResizePlanes(bad, 100, 100, Lanczos3)
	var pe *workers.PanicError
	if !errors.As(err, &pe) || m != nil {
		t.Fatalf("got %T, %v; want a *workers.PanicError", m, err)
	}
}
