package imageproc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"image/jpeg"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

	"picbed/imageproc/internal/quality"
	"picbed/tools/hostile"
)

// jpegRecipes reach every JPEG path: pass-through, strip, a DCT-scaled
// decode, a full-size decode by image/jpeg and a format change.
var jpegRecipes = map[string]Recipe{
	"passthrough": {},
	"strip":       {Strip: true},
	"shrink":      {Strip: true, MaxWidth: 800},
	"slight":      {Strip: true, MaxWidth: 1000},
	"png":         {Strip: true, Format: PNG},
}

// TestScanBombRefusedBeforeDecoding: a progressive JPEG whose scans visit
// every block of 12 MP a thousand times (or just 34 times, under the scan
// cap) is refused as corrupt on every path, and the refusal allocates
// nothing in proportion to the picture: no decoder (ours or image/jpeg,
// whose first scan would allocate the 12 MP coefficients) ever started.
func TestScanBombRefusedBeforeDecoding(t *testing.T) {
	bombs := map[string][]byte{
		"1000 refinements":        hostile.ScanBomb(4000, 3000, 1000),
		"32 refinements (budget)": hostile.ScanBomb(4000, 3000, 32),
	}
	for name, src := range bombs {
		for _, rn := range slices.Sorted(maps.Keys(jpegRecipes)) {
			t.Run(name+"/"+rn, func(t *testing.T) {
				r := jpegRecipes[rn]
				r.Limits = Limits{MaxPixels: 50_000_000}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, err := Process(context.Background(), src, r)
				runtime.ReadMemStats(&after)
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "too complex") {
					t.Fatalf("err = %v, want ErrCorrupt (too complex)", err)
				}
				if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
					t.Errorf("refusing allocated %d KiB, want under 1 MiB (a decode started)", n>>10)
				}
			})
		}
	}
	// The same construction within the budget is a valid JPEG that decodes:
	// the refusals above are about cost, not a malformed file.
	if _, err := Process(context.Background(), hostile.ScanBomb(640, 480, 4), Recipe{Strip: true, MaxWidth: 100}); err != nil {
		t.Fatalf("a small, legal scan sequence: %v", err)
	}
}

// TestBrokenJPEGsNeverStored: the strip and pass-through paths copy the
// entropy-coded data without decoding it; a JPEG no decoder reads (cut
// short and closed with an EOI, two frame headers, a broken Huffman table)
// is refused on them as on the full path.
func TestBrokenJPEGsNeverStored(t *testing.T) {
	broken := hostile.BrokenJPEGs(fixture(t, "phone.jpg"))
	if len(broken) != 3 {
		t.Fatalf("%d broken JPEGs, want 3", len(broken))
	}
	for name, src := range broken {
		for _, rn := range slices.Sorted(maps.Keys(jpegRecipes)) {
			t.Run(name+"/"+rn, func(t *testing.T) {
				res, err := Process(context.Background(), src, jpegRecipes[rn])
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err = %v (path %s), want ErrCorrupt", err, res.Info.Path)
				}
			})
		}
	}
}

// TestProgressiveRestartDecodes: image/jpeg cannot read progressive files
// with restart markers (libvips writes them); on every path that would
// have left the file to image/jpeg, our decoder reads it at full size.
func TestProgressiveRestartDecodes(t *testing.T) {
	src := fixture(t, "progressive-restart.jpg") // 321x241
	for _, tc := range []struct {
		r    Recipe
		w, h int
	}{
		{Recipe{Strip: true}, 321, 241},
		{Recipe{Strip: true, MaxWidth: 200}, 200, 150},
		{Recipe{Strip: true, Format: PNG}, 321, 241},
	} {
		res, err := Process(context.Background(), src, tc.r)
		if err != nil {
			t.Fatalf("%+v: %v", tc.r, err)
		}
		if o := res.Info.Output; o.Width != tc.w || o.Height != tc.h {
			t.Errorf("%+v: output %dx%d, want %dx%d", tc.r, o.Width, o.Height, tc.w, tc.h)
		}
		if m := decodeAny(t, res.Data); m.Bounds().Dx() != tc.w {
			t.Errorf("%+v: the output decodes to %v", tc.r, m.Bounds())
		}
	}
}

// TestPartialPixelNotShifted: a JPEG whose sides are not multiples of the
// DCT scale decodes to a last column and row that hold only part of a
// pixel; resizing must treat them as such, or the picture drifts by up to
// one decoded pixel across the output. A 1593x1193 crop of a photo (one
// more than a multiple of 8, the worst case) must come out as close to a
// full-size Lanczos reference as its 1592x1192 twin, at every DCT scale.
func TestPartialPixelNotShifted(t *testing.T) {
	photo := decodeAny(t, fixture(t, "phone.jpg"))
	source := func(w, h int) []byte {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Rect, photo, image.Point{}, draw.Src)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	score := func(src []byte, w int) float64 {
		res, err := Process(context.Background(), src, Recipe{MaxWidth: w, Quality: 95})
		if err != nil {
			t.Fatal(err)
		}
		got := decodeAny(t, res.Data)
		full, err := jpeg.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		b := got.Bounds()
		s, err := quality.Compare(got, resized(t, full, b.Dx(), b.Dy()), image.Rectangle{})
		if err != nil {
			t.Fatal(err)
		}
		return s.PSNR
	}
	odd, even := source(1593, 1193), source(1592, 1192)
	for _, w := range []int{700, 360, 190} { // DCT scale 1/2 (chroma), 1/4, 1/8
		po, pe := score(odd, w), score(even, w)
		t.Logf("w=%d: 1593x1193 %.2f dB, 1592x1192 %.2f dB against full-size Lanczos", w, po, pe)
		if po < pe-1.5 || po < 30 {
			t.Errorf("w=%d: the odd-sized source scores %.2f dB, its twin %.2f dB; want within 1.5 dB and >= 30", w, po, pe)
		}
	}
}
