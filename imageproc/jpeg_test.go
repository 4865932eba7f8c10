package imageproc

import (
	"errors"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

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
				_, err := Process(src, r)
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
	if _, err := Process(hostile.ScanBomb(640, 480, 4), Recipe{Strip: true, MaxWidth: 100}); err != nil {
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
				res, err := Process(src, jpegRecipes[rn])
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
		res, err := Process(src, tc.r)
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
