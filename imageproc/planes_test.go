package imageproc

import (
	"image"
	"image/color"
	"math/rand"
	"testing"

	"picbed/imageproc/internal/wasmcodec"
)

// randomYCbCr is a noisy 4:2:0 picture (with colours that clip in RGB).
func randomYCbCr(w, h int, seed int64) *image.YCbCr {
	r := rand.New(rand.NewSource(seed))
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(r.Intn(256))
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(r.Intn(256)), uint8(r.Intn(256))
	}
	return m
}

// smoothYCbCr is a 4:2:0 picture of gentle gradients.
func smoothYCbCr(w, h int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Y[m.YOffset(x, y)] = uint8(40 + (x+y)*150/(w+h))
			c := m.COffset(x, y)
			m.Cb[c], m.Cr[c] = uint8(100+x*50/w), uint8(150-y*50/h)
		}
	}
	return m
}

// TestOrientPlanesMatchesRGBA: turning 4:2:0 planes gives the same pixels
// as turning the RGBA conversion (odd sizes take the RGBA path).
func TestOrientPlanesMatchesRGBA(t *testing.T) {
	for _, size := range [][2]int{{6, 4}, {10, 14}, {7, 5}} {
		m := randomYCbCr(size[0], size[1], int64(size[0]))
		for o := 1; o <= 8; o++ {
			got := toRGBA(orient(m, o))
			want := toRGBA(orient(toRGBA(m), o))
			if got.Rect != want.Rect {
				t.Fatalf("%v o=%d: bounds %v, want %v", size, o, got.Rect, want.Rect)
			}
			for i := range got.Pix {
				if got.Pix[i] != want.Pix[i] {
					t.Fatalf("%v o=%d: byte %d is %d, want %d", size, o, i, got.Pix[i], want.Pix[i])
				}
			}
		}
	}
}

// TestWatermarkPlanes: the mark drawn on 4:2:0 planes looks like the mark
// drawn on RGBA, and the pixels outside its (chroma-aligned) rectangle are
// untouched.
func TestWatermarkPlanes(t *testing.T) {
	logo := solidPNG(t, 40, 20, color.NRGBA{255, 0, 0, 200})
	w, err := NewWatermark(Watermark{Image: logo, Position: "bottom-right", Opacity: 0.7, Scale: 0.15, Margin: 0.013})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{400, 300}, {401, 299}} {
		m, orig := smoothYCbCr(size[0], size[1]), smoothYCbCr(size[0], size[1])
		want := toRGBA(m)
		if drawn, why, err := w.draw(want); !drawn || err != nil {
			t.Fatalf("draw: %v %q %v", drawn, why, err)
		}
		if drawn, why, err := w.drawPlanes(m); !drawn || err != nil {
			t.Fatalf("drawPlanes: %v %q %v", drawn, why, err)
		}
		_, r, _, _, _ := w.layout(m.Rect)
		r2 := image.Rect(r.Min.X&^1, r.Min.Y&^1, r.Max.X+1, r.Max.Y+1)
		for y := 0; y < size[1]; y++ {
			for x := 0; x < size[0]; x++ {
				if !image.Pt(x, y).In(r2) && m.YCbCrAt(x, y) != orig.YCbCrAt(x, y) {
					t.Fatalf("%v: pixel %d,%d outside the mark changed", size, x, y)
				}
			}
		}
		// the mark's whole chroma samples (4:2:0 averages its odd edges
		// with the photo, as any 4:2:0 encoding of the RGBA would)
		in := image.Rect((r.Min.X+1)&^1, (r.Min.Y+1)&^1, r.Max.X&^1, r.Max.Y&^1)
		inside := func(img image.Image) image.Image {
			return img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(in)
		}
		if d := meanDiff(t, inside(toRGBA(m)), inside(want)); d > 2 {
			t.Errorf("%v: mean difference %.1f inside the mark", size, d)
		}
	}
}

// TestWebPPlanes: a 4:2:0 picture goes to libwebp as its planes (range
// converted), and comes back as close to its colours as the RGBA hand-over
// does; an offset picture (a SubImage) takes the RGBA path, also faithfully.
func TestWebPPlanes(t *testing.T) {
	m := smoothYCbCr(201, 99)
	o := wasmcodec.WebPOptions{Quality: 90, Method: 4}
	if !webpPlanes(m, o) {
		t.Fatal("a 4:2:0 picture does not take the planes path")
	}
	sub := m.SubImage(image.Rect(1, 1, 201, 99)).(*image.YCbCr)
	if webpPlanes(sub, o) || webpPlanes(m, wasmcodec.WebPOptions{Lossless: true}) {
		t.Fatal("an offset picture or a lossless encode takes the planes path")
	}
	for _, tt := range []struct {
		name string
		img  image.Image
		max  float64
	}{{"planes", m, 1.5}, {"rgba", toRGBA(m), 1.5}, {"offset", sub, 1.5}} {
		out, err := encodeWebP(tt.img, o)
		if err != nil {
			t.Fatal(err)
		}
		d := meanDiff(t, decodeAny(t, out), tt.img)
		if d > tt.max {
			t.Errorf("%s: mean difference %.2f, want <= %.1f", tt.name, d, tt.max)
		}
		t.Logf("%s: mean difference %.3f, %d bytes", tt.name, d, len(out))
	}
}
