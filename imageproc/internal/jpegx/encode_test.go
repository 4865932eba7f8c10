package jpegx

import (
	"errors"

	"bytes"
	"context"
	"image"
	"image/draw"
	"image/jpeg"
	"picbed/imageproc/internal/workers"
	"testing"

	"picbed/imageproc/internal/quality"
)

func rgbaOf(m image.Image) *image.RGBA {
	b := m.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, m, b.Min, draw.Src)
	return dst
}

// rgbPSNR is the PSNR over RGB that the benchmarks report.
func rgbPSNR(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	s, err := quality.Compare(a, b, image.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	return s.PSNR
}

// TestEncodeRoundTrip: what Encode writes decodes with image/jpeg (and
// with this package's decoder, restart markers included) to the same
// picture, as faithfully as image/jpeg's own encoder at that quality and
// in no more bytes than it plus 3 %.
func TestEncodeRoundTrip(t *testing.T) {
	inputs := map[string]image.Image{}
	for name, data := range fixtures(t) {
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b := m.Bounds(); b.Dx()*b.Dy() <= 2<<20 { // the 12 MP photos add time, not coverage
			inputs[name] = m
		}
	}
	for name, data := range synthetic(t) {
		m, _ := jpeg.Decode(bytes.NewReader(data))
		inputs[name] = m
	}
	for name, m := range inputs {
		for _, q := range []int{50, 82, 95} {
			t.Run(name+"/q"+itoa(q), func(t *testing.T) {
				src := rgbaOf(m)
				got, err := Encode(src, q)
				if err != nil {
					t.Fatal(err)
				}
				dec, err := jpeg.Decode(bytes.NewReader(got))
				if err != nil {
					t.Fatalf("image/jpeg cannot decode the output: %v", err)
				}
				if dec.Bounds().Size() != src.Rect.Size() {
					t.Fatalf("decoded size %v, want %v", dec.Bounds().Size(), src.Rect.Size())
				}
				ours, err := Decode(context.Background(), got, 1)
				if err != nil {
					t.Fatalf("jpegx cannot decode the output: %v", err)
				}
				if d := maxDiff(ours, dec); d > 2 {
					t.Errorf("jpegx and image/jpeg disagree on the output by %d", d)
				}
				var ref bytes.Buffer
				if err := jpeg.Encode(&ref, src, &jpeg.Options{Quality: q}); err != nil {
					t.Fatal(err)
				}
				refDec, _ := jpeg.Decode(bytes.NewReader(ref.Bytes()))
				gp, rp := rgbPSNR(t, dec, src), rgbPSNR(t, refDec, src)
				if src.Rect.Dx()*src.Rect.Dy() >= 1024 && gp < rp-0.5 { // tiny pictures: rounding noise
					t.Errorf("PSNR %.2f dB, image/jpeg's %.2f dB", gp, rp)
				}
				if src.Rect.Dx() >= 64 && float64(len(got)) > float64(ref.Len())*1.03 {
					t.Errorf("%d bytes, image/jpeg's %d", len(got), ref.Len())
				}
			})
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data := fixtures(b)["phone.jpg"]
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	src := rgbaOf(m)
	b.Run("stdlib", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			var buf bytes.Buffer
			jpeg.Encode(&buf, src, &jpeg.Options{Quality: 82})
			b.ReportMetric(float64(buf.Len()), "out-B")
		}
	})
	b.Run("jpegx", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			out, _ := Encode(src, 82)
			b.ReportMetric(float64(len(out)), "out-B")
		}
	})
}

// TestEncodeYCbCr: 4:2:0 planes written as they are decode (image/jpeg)
// as faithfully as image/jpeg's own encoding of the same picture, in no
// more bytes than it plus 3 %, at any size (odd sizes included).
func TestEncodeYCbCr(t *testing.T) {
	inputs := map[string]*image.YCbCr{}
	for name, data := range fixtures(t) {
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if yc, ok := m.(*image.YCbCr); ok && yc.SubsampleRatio == image.YCbCrSubsampleRatio420 && yc.Rect.Dx()*yc.Rect.Dy() <= 2<<20 {
			inputs[name] = yc
		}
	}
	for name, data := range synthetic(t) {
		m, _ := jpeg.Decode(bytes.NewReader(data))
		if yc, ok := m.(*image.YCbCr); ok && yc.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			inputs[name] = yc
		}
	}
	if len(inputs) < 5 {
		t.Fatalf("only %d 4:2:0 inputs", len(inputs))
	}
	for name, m := range inputs {
		t.Run(name, func(t *testing.T) {
			got, err := EncodeYCbCr(m, 82)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := jpeg.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("image/jpeg cannot decode the output: %v", err)
			}
			if dec.Bounds().Size() != m.Rect.Size() {
				t.Fatalf("decoded size %v, want %v", dec.Bounds().Size(), m.Rect.Size())
			}
			var ref bytes.Buffer
			if err := jpeg.Encode(&ref, m, &jpeg.Options{Quality: 82}); err != nil {
				t.Fatal(err)
			}
			refDec, _ := jpeg.Decode(bytes.NewReader(ref.Bytes()))
			gp, rp := rgbPSNR(t, dec, m), rgbPSNR(t, refDec, m)
			if gp < rp-0.5 {
				t.Errorf("PSNR %.2f dB, image/jpeg's %.2f dB", gp, rp)
			}
			if m.Rect.Dx() >= 64 && float64(len(got)) > float64(ref.Len())*1.03 {
				t.Errorf("%d bytes, image/jpeg's %d", len(got), ref.Len())
			}
		})
	}
}

// TestEncodePanicIsAnError: a picture whose pixels are shorter than its
// rectangle panics inside the row workers, on their own goroutines; Encode
// returns that as an error instead of crashing the process.
func TestEncodePanicIsAnError(t *testing.T) {
	bad := &image.RGBA{Pix: make([]uint8, 4*64), Stride: 4 * 512, Rect: image.Rect(0, 0, 512, 512)}
	out, err := Encode(bad, 82)
	var pe *workers.PanicError
	if !errors.As(err, &pe) || out != nil {
		t.Fatalf("got %d bytes, %v; want a *workers.PanicError", len(out), err)
	}
}
