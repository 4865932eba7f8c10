package imageproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"
)

// upright is orientation_1.jpg decoded: what every orientation_N.jpg must
// look like once displayed.
func upright(t *testing.T) image.Image {
	t.Helper()
	return decodeAny(t, fixture(t, "orientation_1.jpg"))
}

// isRed tells the marker block of the orientation fixtures from the photo.
func isRed(c color.NRGBA) bool { return c.R > 180 && c.G < 90 && c.B < 90 }

func TestOrientationAllEight(t *testing.T) {
	ref := upright(t)
	for n := 1; n <= 8; n++ {
		src := fixture(t, fmt.Sprintf("orientation_%d.jpg", n))
		for _, tc := range []struct {
			name string
			r    Recipe
			w, h int
		}{
			{"strip", Recipe{Strip: true}, 96, 64},
			{"full-png", Recipe{Strip: true, Format: PNG}, 96, 64},
			{"full-resize", Recipe{Strip: true, MaxWidth: 48, Quality: 95}, 48, 32},
		} {
			t.Run(fmt.Sprintf("%d/%s", n, tc.name), func(t *testing.T) {
				res, err := Process(context.Background(), src, tc.r)
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Info.Output; got.Width != tc.w || got.Height != tc.h {
					t.Errorf("Info.Output = %dx%d, want %dx%d", got.Width, got.Height, tc.w, tc.h)
				}
				img := decodeAny(t, res.Data)
				if res.Info.Path == PathStrip {
					// The pixels stay stored as they were; the kept
					// Orientation tag must say how to show them.
					if got := jpegOrientation(res.Data); got != n {
						t.Fatalf("Orientation in the output = %d, want %d", got, n)
					}
					img = orient(img, n)
				} else if got := jpegOrientation(res.Data); got != 1 && res.Info.Output.Format == JPEG {
					t.Errorf("re-encoded output still says Orientation %d", got)
				}
				if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
					t.Fatalf("displayed %v, want %dx%d", b.Size(), tc.w, tc.h)
				}
				want, limit := ref, 8.0
				if tc.w != 96 {
					want, limit = resized(t, ref, tc.w, tc.h), 12 // re-encoded at a size where JPEG blocks show
				}
				if d := meanDiff(t, img, want); d > limit {
					t.Errorf("mean difference to the upright picture = %.1f, want <= %g", d, limit)
				}
				b := img.Bounds()
				if c := nrgbaAt(img, b.Dx()/16, b.Dy()/16); !isRed(c) {
					t.Errorf("top-left = %v, want the red marker", c)
				}
				for _, p := range []image.Point{{b.Dx() - 2, 1}, {1, b.Dy() - 2}, {b.Dx() - 2, b.Dy() - 2}} {
					if c := nrgbaAt(img, p.X, p.Y); isRed(c) {
						t.Errorf("corner %v is red: the picture is not upright", p)
					}
				}
			})
		}
	}
}

// recipes covers every path Process can take.
var recipes = []struct {
	name string
	r    Recipe
}{
	{"strip", Recipe{Strip: true}},
	{"resize", Recipe{Strip: true, MaxWidth: 120, MaxHeight: 120}},
	{"jpeg", Recipe{Strip: true, Format: JPEG}},
	{"png", Recipe{Strip: true, Format: PNG}},
	{"webp", Recipe{Strip: true, Format: WebP, MaxWidth: 200}},
	{"watermark", Recipe{Strip: true, Watermark: &Watermark{Text: "picbed"}}},
}

var photos = []string{"phone.jpg", "portrait6.jpg", "icc.jpg", "icc.png", "phone.webp", "phone.heic", "phone.avif",
	"animated-meta.gif", "animated.webp", "orientation_5.jpg", "progressive.jpg"}

func TestNoPrivateMetadataOnAnyPath(t *testing.T) {
	for _, name := range photos {
		src := fixture(t, name)
		for _, rc := range recipes {
			t.Run(name+"/"+rc.name, func(t *testing.T) {
				res, err := Process(context.Background(), src, rc.r)
				if err != nil {
					t.Fatal(err)
				}
				if leaks := privateLeaks(res.Data); len(leaks) > 0 {
					t.Errorf("path %s leaks: %s", res.Info.Path, strings.Join(leaks, "; "))
				}
				if !res.Info.MetadataRemoved {
					t.Errorf("Info.MetadataRemoved = false for a source with GPS")
				}
				if got, want := res.Info.Output.Format, rc.r.OutputFormat(res.Info.Source.Format); got != want {
					t.Errorf("Output.Format = %s, want %s", got, want)
				}
				if f, err := Sniff(res.Data); err != nil || f != res.Info.Output.Format {
					t.Errorf("the bytes are %s (%v), Info says %s", f, err, res.Info.Output.Format)
				}
				if res.Info.Output.Size != len(res.Data) {
					t.Errorf("Output.Size = %d, len(Data) = %d", res.Info.Output.Size, len(res.Data))
				}
			})
		}
	}
}

func TestICCProfileKept(t *testing.T) {
	want := jpegICCBody(fixture(t, "icc.jpg"))
	if len(want) < 100 {
		t.Fatal("icc.jpg has no ICC profile")
	}
	for _, tc := range []struct {
		src string
		r   Recipe
	}{
		{"icc.jpg", Recipe{Strip: true}},
		{"icc.jpg", Recipe{Strip: true, MaxWidth: 100}},
		{"icc.jpg", Recipe{Strip: true, Format: PNG}},
		{"icc.jpg", Recipe{Strip: true, Format: WebP}},
		{"icc.png", Recipe{Strip: true}},
		{"icc.png", Recipe{Strip: true, MaxWidth: 100}},
		{"icc.png", Recipe{Strip: true, Format: JPEG}},
		{"icc.png", Recipe{Strip: true, Format: WebP}},
	} {
		t.Run(tc.src+"/"+tc.r.Key(), func(t *testing.T) {
			res, err := Process(context.Background(), fixture(t, tc.src), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			switch res.Info.Output.Format {
			case JPEG:
				got = jpegICCBody(res.Data)
			case PNG:
				got = inflate(t, pngChunk(res.Data, "iCCP"))
			case WebP:
				got = webpChunk(res.Data, "ICCP")
				if c := webpChunk(res.Data, "VP8X"); len(c) == 0 || c[0]&0x20 == 0 {
					t.Error("VP8X missing or without the ICC flag")
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("ICC profile: got %d bytes, want the source's %d (path %s)", len(got), len(want), res.Info.Path)
			}
			if d := decodeAny(t, res.Data).Bounds(); d.Dx() != res.Info.Output.Width {
				t.Errorf("output decodes to %v, Info says width %d", d, res.Info.Output.Width)
			}
		})
	}
}

func TestStripKeepsPictureBytes(t *testing.T) {
	// The lossless path must leave the compressed picture alone: the stripped
	// JPEG decodes to exactly the source's pixels.
	for _, name := range []string{"phone.jpg", "portrait6.jpg", "icc.jpg", "progressive.jpg"} {
		t.Run(name, func(t *testing.T) {
			src := fixture(t, name)
			res, err := Process(context.Background(), src, Recipe{Strip: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.Path != PathStrip || len(res.Data) >= len(src) {
				t.Fatalf("path %s, %d -> %d bytes; want a smaller strip", res.Info.Path, len(src), len(res.Data))
			}
			a, b := decodeAny(t, src).(*image.YCbCr), decodeAny(t, res.Data).(*image.YCbCr)
			if !bytes.Equal(a.Y, b.Y) || !bytes.Equal(a.Cb, b.Cb) || !bytes.Equal(a.Cr, b.Cr) {
				t.Error("the stripped JPEG decodes to different pixels")
			}
		})
	}
}

func TestPassThrough(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		r    Recipe
	}{
		{"nothing asked", "phone.jpg", Recipe{}},
		{"no metadata to drop", "animated.gif", Recipe{Strip: true}},
		{"never upscale", "logo.png", Recipe{MaxWidth: 4000, MaxHeight: 4000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fixture(t, tc.src)
			res, err := Process(context.Background(), src, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.Path != PathPassThrough || !bytes.Equal(res.Data, src) {
				t.Errorf("path %s, %d bytes; want the source untouched", res.Info.Path, len(res.Data))
			}
		})
	}
}

func TestNeverUpscale(t *testing.T) {
	for _, tc := range []struct {
		src        string
		r          Recipe
		wantW, wan int
	}{
		{"phone.jpg", Recipe{Strip: true, MaxWidth: 5000}, 1600, 1200},
		{"phone.jpg", Recipe{Strip: true, Format: PNG, MaxWidth: 5000, MaxHeight: 5000}, 1600, 1200},
		{"portrait6.jpg", Recipe{Strip: true, MaxWidth: 600}, 600, 800},
		{"portrait6.jpg", Recipe{Strip: true, MaxHeight: 600}, 450, 600},
		{"logo.png", Recipe{Strip: true, Format: WebP, MaxWidth: 1000}, 288, 94},
	} {
		t.Run(fmt.Sprintf("%s/%dx%d/%s", tc.src, tc.r.MaxWidth, tc.r.MaxHeight, tc.r.Format), func(t *testing.T) {
			res, err := Process(context.Background(), fixture(t, tc.src), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			b := decodeAny(t, res.Data).Bounds()
			if res.Info.Path != PathStrip {
				if b.Dx() != tc.wantW || b.Dy() != tc.wan {
					t.Errorf("decoded %v, want %dx%d", b.Size(), tc.wantW, tc.wan)
				}
			}
			if o := res.Info.Output; o.Width != tc.wantW || o.Height != tc.wan {
				t.Errorf("Info.Output = %dx%d, want %dx%d", o.Width, o.Height, tc.wantW, tc.wan)
			}
		})
	}
}

func TestFitSize(t *testing.T) {
	for _, tc := range []struct{ w, h, mw, mh, ww, wh int }{
		{4032, 3024, 1920, 0, 1920, 1440},
		{4032, 3024, 0, 1080, 1440, 1080},
		{4032, 3024, 1920, 1080, 1440, 1080},
		{3024, 4032, 1920, 1920, 1440, 1920},
		{800, 600, 1920, 1920, 800, 600},
		{800, 600, 0, 0, 800, 600},
		{10000, 1, 100, 0, 100, 1},
		{1, 10000, 0, 100, 1, 100},
	} {
		gw, gh := fitSize(tc.w, tc.h, tc.mw, tc.mh)
		if gw != tc.ww || gh != tc.wh {
			t.Errorf("fitSize(%d, %d, %d, %d) = %dx%d, want %dx%d", tc.w, tc.h, tc.mw, tc.mh, gw, gh, tc.ww, tc.wh)
		}
	}
}

func TestPhoneFormatsBecomeJPEG(t *testing.T) {
	ref := resized(t, decodeAny(t, fixture(t, "phone.jpg")), 320, 240)
	for _, name := range []string{"phone.heic", "phone.avif"} {
		t.Run(name, func(t *testing.T) {
			res, err := Process(context.Background(), fixture(t, name), Recipe{Strip: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.Output.Format != JPEG || res.Info.Path != PathFull {
				t.Fatalf("output %s via %s, want jpeg via full", res.Info.Output.Format, res.Info.Path)
			}
			img := decodeAny(t, res.Data)
			if d := meanDiff(t, img, ref); d > 12 {
				t.Errorf("mean difference to the original photo = %.1f, want <= 12", d)
			}
		})
	}
}

func TestNeverBigger(t *testing.T) {
	src := fixture(t, "orientation_3.jpg")
	stripped, _, err := stripJPEG(src)
	if err != nil {
		t.Fatal(err)
	}
	tiny := &Watermark{Text: "picbed", Scale: 0.1} // 10 px wide: skipped on a 96 px image
	for _, tc := range []struct {
		name     string
		r        Recipe
		wantKept bool
	}{
		{"optional re-encode grew", Recipe{Strip: true, Quality: 100, Watermark: tiny}, true},
		{"optional re-encode shrank", Recipe{Strip: true, Quality: 20, Watermark: tiny}, false},
		{"resize asked", Recipe{Strip: true, Quality: 100, MaxWidth: 95}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Process(context.Background(), src, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.KeptSource != tc.wantKept {
				t.Fatalf("KeptSource = %v, want %v (%d bytes vs %d stripped; %s)", res.Info.KeptSource, tc.wantKept, len(res.Data), len(stripped), res.Info.Note)
			}
			if tc.wantKept {
				if !bytes.Equal(res.Data, stripped) || res.Info.Path != PathStrip {
					t.Errorf("kept %d bytes via %s, want the stripped source", len(res.Data), res.Info.Path)
				}
				if !strings.Contains(res.Info.Note, "watermark skipped") {
					t.Errorf("Note = %q, want it to say the watermark was skipped", res.Info.Note)
				}
			} else if res.Info.Path != PathFull {
				t.Errorf("path %s, want full", res.Info.Path)
			}
		})
	}
}

func TestAnimationsKeepTheirFrames(t *testing.T) {
	for _, name := range []string{"animated.gif", "animated-meta.gif", "animated.webp"} {
		t.Run(name, func(t *testing.T) {
			res, err := Process(context.Background(), fixture(t, name), Recipe{Strip: true, MaxWidth: 80, Watermark: &Watermark{Text: "x"}})
			if err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeader(res.Data)
			if err != nil {
				t.Fatal(err)
			}
			if h.Frames != 3 || res.Info.Output.Frames != 3 {
				t.Errorf("frames: header %d, Info %d, want 3", h.Frames, res.Info.Output.Frames)
			}
			if !strings.Contains(res.Info.Note, "not supported") {
				t.Errorf("Note = %q, want it to say resizing animations is not supported", res.Info.Note)
			}
			if _, err := decode(context.Background(), res.Data, h, 1); err != nil {
				t.Errorf("the stripped animation does not decode: %v", err)
			}
		})
	}
}

func TestInfoSteps(t *testing.T) {
	res, err := Process(context.Background(), fixture(t, "portrait6.jpg"), Recipe{Strip: true, MaxWidth: 300, Watermark: &Watermark{Text: "picbed"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Info.Steps {
		got = append(got, s.Name)
	}
	want := "header plan decode resize orient watermark encode" // a resize is never optional: no strip, no never-worse
	if strings.Join(got, " ") != want {
		t.Errorf("steps = %q, want %q", strings.Join(got, " "), want)
	}
	src := res.Info.Source
	if src.Width != 900 || src.Height != 1200 || src.Format != JPEG || src.Size == 0 {
		t.Errorf("Info.Source = %+v, want a 900x1200 jpeg", src)
	}
}

func TestCorruptInputs(t *testing.T) {
	for _, name := range append(photos, "logo.png", "animated.gif") {
		src := fixture(t, name)
		for _, cut := range []int{len(src) / 2, len(src) - 7, 40} {
			t.Run(fmt.Sprintf("%s/%d", name, cut), func(t *testing.T) {
				for _, r := range []Recipe{{Strip: true}, {Strip: true, MaxWidth: 50, Format: JPEG}} {
					_, err := Process(context.Background(), src[:cut], r)
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("recipe %s: err = %v, want ErrCorrupt", r.Key(), err)
					}
				}
			})
		}
	}
	for _, tc := range []struct {
		name string
		src  []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), ErrUnsupported},
		{"jpeg magic only", []byte("\xFF\xD8\xFF"), ErrCorrupt},
		{"png signature only", []byte("\x89PNG\r\n\x1a\n"), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Process(context.Background(), tc.src, Recipe{Strip: true}); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestStripDropsTrailingImages: phones append secondary images (MPF depth
// and gain maps) after the primary EOI, each with its own EXIF.
func TestStripDropsTrailingImages(t *testing.T) {
	for _, name := range []string{"icc.jpg", "progressive.jpg"} {
		t.Run(name, func(t *testing.T) {
			src := append(bytes.Clone(fixture(t, name)), fixture(t, "orientation_1.jpg")...)
			res, err := Process(context.Background(), src, Recipe{Strip: true})
			if err != nil {
				t.Fatal(err)
			}
			if leaks := privateLeaks(res.Data); len(leaks) > 0 {
				t.Errorf("leaks: %s", strings.Join(leaks, "; "))
			}
			want, _, err := stripJPEG(fixture(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.Data, want) {
				t.Errorf("got %d bytes, want the stripped primary image (%d)", len(res.Data), len(want))
			}
		})
	}
}
