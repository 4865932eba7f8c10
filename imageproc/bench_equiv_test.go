package imageproc

// Equivalence of the fast codec paths (jpegx shrink-on-load decode, planar
// fixed-point resize, jpegx encode) with the plain reference path
// (image/jpeg decode at full size, x/image/draw Catmull-Rom, image/jpeg
// encode), on every JPEG fixture. The reference decode is decodeJPEG at
// full size: image/jpeg, or jpegx for what image/jpeg cannot read.

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"picbed/imageproc/internal/quality"

	xdraw "golang.org/x/image/draw"
)

func equivalenceInputs(t *testing.T) map[string][]byte {
	files, _ := filepath.Glob("../testdata/*.jpg")
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func TestFastPathEquivalence(t *testing.T) {
	for name, src := range equivalenceInputs(t) {
		for _, div := range []float64{1, 2.1, 4.3} { // same size, 1/2 and 1/4 shrink-on-load
			t.Run(name+"/"+ftoa(div), func(t *testing.T) {
				ref, err := decodeJPEG(context.Background(), src, 1, 1)
				if err != nil {
					t.Fatal(err)
				}
				b := ref.Bounds()
				w, h := max(1, int(float64(b.Dx())/div)), max(1, int(float64(b.Dy())/div))

				hdr, err := ReadHeader(src)
				if err != nil {
					t.Fatal(err)
				}
				img, err := decode(context.Background(), src, hdr, float64(w)/float64(b.Dx()))
				if err != nil {
					t.Fatal(err)
				}
				if ib := img.Bounds(); ib.Dx() < w || ib.Dy() < h {
					t.Fatalf("decode at scale %.3f gave %v, smaller than the %dx%d target", float64(w)/float64(b.Dx()), ib.Size(), w, h)
				}
				if ib := img.Bounds(); ib.Dx() != w || ib.Dy() != h {
					if img, err = resize(img, b.Size(), w, h); err != nil {
						t.Fatal(err)
					}
				}
				data, err := encode(img, JPEG, 90)
				if err != nil {
					t.Fatal(err)
				}
				got, err := jpeg.Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("image/jpeg cannot read the fast encoder's output: %v", err)
				}

				scaled := image.NewRGBA(image.Rect(0, 0, w, h))
				xdraw.CatmullRom.Scale(scaled, scaled.Rect, ref, b, xdraw.Src, nil)
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, scaled, &jpeg.Options{Quality: 90}); err != nil {
					t.Fatal(err)
				}
				want, err := jpeg.Decode(&buf)
				if err != nil {
					t.Fatal(err)
				}
				s, err := quality.Compare(got, want, image.Rectangle{})
				if err != nil {
					t.Fatal(err)
				}
				minPSNR, minSSIM := 30.0, 0.93
				if w < 64 || h < 64 { // a few pixels: every one is an edge
					minPSNR, minSSIM = 24, 0.8
				}
				t.Logf("%dx%d: PSNR %.2f dB, SSIM %.4f", w, h, s.PSNR, s.SSIM)
				if s.PSNR < minPSNR || s.SSIM < minSSIM {
					t.Errorf("%dx%d: PSNR %.2f dB, SSIM %.4f against the reference path; want >= %g dB, >= %g", w, h, s.PSNR, s.SSIM, minPSNR, minSSIM)
				}
			})
		}
	}
}

func ftoa(f float64) string { return "1:" + strconv.FormatFloat(f, 'g', -1, 64) }
