package imageproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"strings"
	"testing"
)

var gray = color.NRGBA{100, 100, 100, 255}

func TestWatermarkLandsInItsPlace(t *testing.T) {
	const W, H, margin = 400, 300, 6 // margin: 0.02 * 300
	src := solidPNG(t, W, H, gray)
	logo, err := NewWatermark(Watermark{Image: solidPNG(t, 40, 20, color.NRGBA{255, 255, 255, 255}), Opacity: 1, Scale: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	// The logo is drawn 100x50. Where its centre must be, per position:
	want := map[string]image.Point{
		"top-left": {margin + 50, margin + 25}, "top": {W / 2, margin + 25}, "top-right": {W - margin - 50, margin + 25},
		"left": {margin + 50, H / 2}, "center": {W / 2, H / 2}, "right": {W - margin - 50, H / 2},
		"bottom-left": {margin + 50, H - margin - 25}, "bottom": {W / 2, H - margin - 25}, "bottom-right": {W - margin - 50, H - margin - 25},
	}
	for _, pos := range Positions {
		t.Run(pos, func(t *testing.T) {
			wm := *logo
			wm.Position = pos
			res, err := Process(context.Background(), src, Recipe{Watermark: &wm})
			if err != nil {
				t.Fatal(err)
			}
			img := decodeAny(t, res.Data)
			c := want[pos]
			for _, p := range []image.Point{c, c.Add(image.Pt(-49, -24)), c.Add(image.Pt(49, 24))} {
				if got := nrgbaAt(img, p.X, p.Y); got.R != 255 {
					t.Errorf("pixel %v = %v, want the white logo", p, got)
				}
			}
			for _, p := range []image.Point{c.Add(image.Pt(-51, 0)), c.Add(image.Pt(51, 0)), c.Add(image.Pt(0, -26)), c.Add(image.Pt(0, 26))} {
				if !p.In(img.Bounds()) {
					continue
				}
				if got := nrgbaAt(img, p.X, p.Y); got != gray {
					t.Errorf("pixel %v = %v just outside the logo, want the background %v", p, got, gray)
				}
			}
		})
	}
}

func TestTextWatermark(t *testing.T) {
	src := solidPNG(t, 400, 300, gray)
	wm, err := NewWatermark(Watermark{Text: "picbed.example", Position: "bottom-right", Opacity: 1, Scale: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Process(context.Background(), src, Recipe{Watermark: wm})
	if err != nil {
		t.Fatal(err)
	}
	img := decodeAny(t, res.Data)
	white, elsewhere := 0, 0
	for y := 0; y < 300; y++ {
		for x := 0; x < 400; x++ {
			c := nrgbaAt(img, x, y)
			switch {
			case c == gray:
			case x >= 400-6-160 && y >= 200:
				if c.R > 240 {
					white++
				}
			default:
				elsewhere++
			}
		}
	}
	if white < 200 {
		t.Errorf("%d white text pixels in the bottom-right corner, want many", white)
	}
	if elsewhere > 0 {
		t.Errorf("%d pixels changed outside the bottom-right corner", elsewhere)
	}
}

func TestWatermarkSkippedOnSmallImages(t *testing.T) {
	for _, tc := range []struct {
		name string
		w, h int
		wm   Watermark
	}{
		{"too narrow", 40, 30, Watermark{Text: "picbed", Scale: 0.5}},
		{"too low", 200, 20, Watermark{Image: solidPNG(t, 40, 20, color.NRGBA{255, 255, 255, 255}), Scale: 0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := solidPNG(t, tc.w, tc.h, gray)
			res, err := Process(context.Background(), src, Recipe{Watermark: &tc.wm})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Info.Note, "watermark skipped") {
				t.Errorf("Note = %q, want it to say the watermark was skipped", res.Info.Note)
			}
			if d := meanDiff(t, decodeAny(t, res.Data), decodeAny(t, src)); d != 0 {
				t.Errorf("the image changed (mean difference %.2f)", d)
			}
		})
	}
}

func TestNewWatermarkErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		w         Watermark
		field     string
		wantInErr string
	}{
		{"chinese text, latin font", Watermark{Text: "图床 picbed"}, "text", "图"},
		{"emoji", Watermark{Text: "picbed 📷"}, "text", "U+1F4F7"},
		{"not a font", Watermark{Text: "picbed", Font: []byte("not a font")}, "font", "font"},
		{"not a png", Watermark{Image: []byte("GIF89a....")}, "image", "PNG"},
		{"nothing to draw", Watermark{Text: "  "}, "text", "neither"},
		{"bad position", Watermark{Text: "x", Position: "middle"}, "", "middle"},
		{"bad opacity", Watermark{Text: "x", Opacity: 2}, "", "opacity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWatermark(tc.w)
			if err == nil {
				t.Fatal("NewWatermark succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("err = %q, want it to mention %s", err, tc.wantInErr)
			}
			var we *WatermarkError
			if tc.field != "" && (!errors.As(err, &we) || we.Field != tc.field) {
				t.Errorf("err = %#v, want a WatermarkError on %q", err, tc.field)
			}
		})
	}
}

func TestWatermarkKey(t *testing.T) {
	a, err := NewWatermark(Watermark{Text: "picbed"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewWatermark(Watermark{Text: "picbed", Position: "top-left"})
	c, _ := NewWatermark(Watermark{Text: "picbed"})
	if a.Key() == b.Key() || a.Key() != c.Key() {
		t.Errorf("keys %s %s %s: want equal for equal watermarks, different otherwise", a.Key(), b.Key(), c.Key())
	}
	if got := (&Watermark{Text: "picbed", Position: "bottom-right", Opacity: 0.7, Scale: 0.15, Margin: 0.02}).Key(); got != a.Key() {
		t.Errorf("a literal with the same settings has key %s, want %s", got, a.Key())
	}
}

// TestAlphaThroughResizeAndWatermark: transparent pixels carry colour in
// NRGBA that must not bleed into their opaque neighbours when resizing
// (the premultiplied-alpha rule), and a watermark on a transparent image
// keeps the transparency elsewhere.
func TestAlphaThroughResizeAndWatermark(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 200, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 200; x++ {
			c := color.NRGBA{255, 0, 0, 0} // invisible red
			if x >= 100 {
				c = color.NRGBA{0, 200, 0, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	src := encodePNG(t, img)
	var gifSrc bytes.Buffer
	pal := color.Palette{color.Transparent, color.NRGBA{0, 200, 0, 255}}
	pm := image.NewPaletted(img.Bounds(), pal)
	draw.Draw(pm, pm.Rect, img, image.Point{}, draw.Src)
	if err := gif.Encode(&gifSrc, pm, nil); err != nil {
		t.Fatal(err)
	}
	wm, err := NewWatermark(Watermark{Image: fixture(t, "logo.png"), Position: "bottom-right", Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    Recipe
	}{
		{"resize png", Recipe{MaxWidth: 67}},
		{"resize webp", Recipe{MaxWidth: 67, Format: WebP}},
		{"watermark", Recipe{Watermark: wm}},
		{"resize gif", Recipe{MaxWidth: 67}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := src
			if strings.HasSuffix(tc.name, "gif") {
				in = gifSrc.Bytes()
			}
			res, err := Process(context.Background(), in, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			out := decodeAny(t, res.Data)
			b := out.Bounds()
			for y := 0; y < b.Dy(); y++ {
				for x := 0; x < b.Dx(); x++ {
					c := nrgbaAt(out, x, y)
					if c.A > 8 && c.R > 24 && c.G < 100 {
						t.Fatalf("pixel (%d,%d) = %v: red from transparent pixels bled in", x, y, c)
					}
				}
			}
			if c := nrgbaAt(out, 2, 2); c.A != 0 {
				t.Errorf("top-left = %v, want still transparent", c)
			}
			if c := nrgbaAt(out, b.Dx()-2, 2); c.A != 255 || c.G < 190 {
				t.Errorf("top-right = %v, want opaque green", c)
			}
		})
	}
}

// TestConcurrentProcessShareWatermark: one configured watermark serves
// every request at once; nothing in it may be written per image.
func TestConcurrentProcessShareWatermark(t *testing.T) {
	wm, err := NewWatermark(Watermark{Text: "picbed"})
	if err != nil {
		t.Fatal(err)
	}
	logo, err := NewWatermark(Watermark{Image: fixture(t, "logo.png")})
	if err != nil {
		t.Fatal(err)
	}
	src := fixture(t, "icc.jpg")
	recipe := func(i int) Recipe {
		r := Recipe{Strip: true, MaxWidth: 200, Watermark: wm}
		if i%2 == 1 {
			r.Watermark = logo
		}
		return r
	}
	var want [2][]byte // what one request alone gets
	for i := range want {
		res, err := Process(context.Background(), src, recipe(i))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Data
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			res, err := Process(context.Background(), src, recipe(i))
			if err == nil && !bytes.Equal(res.Data, want[i%2]) {
				err = fmt.Errorf("request %d: output differs from the same request run alone", i)
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
