package vp8

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"testing"

	"picbed/imageproc/internal/quality"

	xdraw "golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"
)

// TestNominalRange: VP8's nominal black (Y 16) and white (Y 235) become 0
// and 255, and its colour primaries come out of the matrix.
func TestNominalRange(t *testing.T) {
	tests := []struct {
		name    string
		y, u, v uint8
		want    color.NRGBA
	}{
		{"black", 16, 128, 128, color.NRGBA{0, 0, 0, 255}},
		{"white", 235, 128, 128, color.NRGBA{255, 255, 255, 255}},
		{"mid grey", 126, 128, 128, color.NRGBA{128, 128, 128, 255}},
		{"red", 81, 90, 240, color.NRGBA{255, 0, 0, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
			for i := range m.Y {
				m.Y[i] = tt.y
			}
			m.Cb[0], m.Cr[0] = tt.u, tt.v
			out, ok := ToNRGBA(m)
			if !ok {
				t.Fatal("not converted")
			}
			got := out.NRGBAAt(1, 1)
			for i, pair := range [][2]uint8{{got.R, tt.want.R}, {got.G, tt.want.G}, {got.B, tt.want.B}} {
				if math.Abs(float64(pair[0])-float64(pair[1])) > 2 {
					t.Fatalf("channel %d: got %v, want %v", i, got, tt.want)
				}
			}
		})
	}
}

// TestPhoneWebP: testdata/phone.webp (cwebp of phone.jpg at 320x240) is
// much closer to the JPEG it was made from once converted here than when
// its planes are read as JPEG YCbCr.
func TestPhoneWebP(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/phone.webp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := xwebp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	jf, err := os.ReadFile("../../../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	j, err := jpeg.Decode(bytes.NewReader(jf))
	if err != nil {
		t.Fatal(err)
	}
	ref := image.NewRGBA(m.Bounds())
	xdraw.CatmullRom.Scale(ref, ref.Rect, j, j.Bounds(), xdraw.Src, nil)
	out, ok := ToNRGBA(m)
	if !ok {
		t.Fatalf("%T not converted", m)
	}
	good, raw := psnr(t, out, ref), psnr(t, m, ref)
	t.Logf("converted %.2f dB, raw planes %.2f dB", good, raw)
	if good < 26 || good < raw+3 {
		t.Errorf("converted %.2f dB, raw planes %.2f dB against the source; want >= 26 and 3 dB better", good, raw)
	}
}

func psnr(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	s, err := quality.Compare(a, b, image.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	return s.PSNR
}
