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

// TestFromYCbCr: full-range planes become VP8's limited range (the ends
// and the middle land on the nominal values), and converted back by
// ToNRGBA they give the RGB Go's JPEG YCbCr gives, odd sizes included.
func TestFromYCbCr(t *testing.T) {
	for _, c := range []struct{ in, luma, chroma uint8 }{{0, 16, 16}, {128, 126, 128}, {255, 235, 240}} {
		if lumaRange[c.in] != c.luma || chromaRange[c.in] != c.chroma {
			t.Errorf("%d: luma %d chroma %d, want %d %d", c.in, lumaRange[c.in], chromaRange[c.in], c.luma, c.chroma)
		}
	}
	w, h := 33, 17 // chroma 17 x 9
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 7)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(60+i*3), uint8(200-i*5)
	}
	cw, ch := (w+1)/2, (h+1)/2
	y, u, v := make([]byte, w*h), make([]byte, cw*ch), make([]byte, cw*ch)
	FromYCbCr(y, u, v, m)
	lim := &image.YCbCr{Y: y, Cb: u, Cr: v, YStride: w, CStride: cw, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: m.Rect}
	got, _ := ToNRGBA(lim)
	for py := 0; py < h; py++ {
		for px := 0; px < w; px++ {
			want := color.NRGBAModel.Convert(m.At(px, py)).(color.NRGBA)
			g := got.NRGBAAt(px, py)
			for i, pair := range [][2]uint8{{g.R, want.R}, {g.G, want.G}, {g.B, want.B}} {
				if math.Abs(float64(pair[0])-float64(pair[1])) > 2 {
					t.Fatalf("(%d,%d) channel %d: got %v, want %v", px, py, i, g, want)
				}
			}
		}
	}
}
