package jpegx

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"runtime"
	"testing"

	"picbed/tools/hostile"
)

// TestDecodesWhatStdlibRefuses: the files image/jpeg cannot read are still
// pictures to this decoder, at every scale (the pipeline falls back to it).
func TestDecodesWhatStdlibRefuses(t *testing.T) {
	for name := range stdlibRefuses {
		data := readOr(t, "../../../testdata/"+name)
		if _, err := jpeg.Decode(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: image/jpeg decodes it now; move it to the compared fixtures", name)
		}
		for _, s := range []int{1, 2, 8} {
			m, err := Decode(context.Background(), data, s)
			if err != nil {
				t.Fatalf("%s at 1/%d: %v", name, s, err)
			}
			if full, _ := Decode(context.Background(), data, 1); s > 1 && boxPSNR(m, full, s) < 30 {
				t.Errorf("%s at 1/%d: far from the full decode", name, s)
			}
		}
	}
}

// TestScanBudget: more scans than MaxScans, or scans that together visit
// every block more than MaxPasses times, are refused by the pre-walk
// before anything is allocated for the picture; the same construction
// within the budget decodes, and matches image/jpeg.
func TestScanBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"1000 refinements over 12 MP", hostile.ScanBomb(4000, 3000, 1000), ErrTooComplex},
		{"over MaxScans on a tiny picture", hostile.ScanBomb(16, 16, MaxScans), ErrTooComplex},
		{"over MaxPasses", hostile.ScanBomb(4000, 3000, MaxPasses), ErrTooComplex},
		{"within the budget", hostile.ScanBomb(64, 48, MaxPasses-2), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, err := Decode(context.Background(), tc.data, 1)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
					t.Errorf("refusing allocated %d KiB, want under 256 KiB", n>>10)
				}
				return
			}
			want, err := jpeg.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("image/jpeg: %v", err)
			}
			if d := maxDiff(m, want); d > 2 {
				t.Errorf("max sample difference %d from image/jpeg", d)
			}
		})
	}
}

// sosHeaders returns the offsets of every SOS marker of a JPEG.
func sosHeaders(data []byte) []int {
	var out []int
	for i := 0; i+1 < len(data); i++ {
		if data[i] == 0xFF && data[i+1] == 0xDA {
			out = append(out, i)
		}
	}
	return out
}

// TestProgressionValidated: spectral-selection and successive-approximation
// parameters outside T.81's rules are refused (as libjpeg and image/jpeg
// refuse them), never decoded into garbage.
func TestProgressionValidated(t *testing.T) {
	prog := readOr(t, "testdata/prog420.jpg")
	edit := func(pred func(ns int, ss, se, ahal byte) bool, change func(p []byte)) []byte {
		c := bytes.Clone(prog)
		for _, i := range sosHeaders(c) {
			ns := int(c[i+4])
			p := c[i+4+1+2*ns:]
			if pred(ns, p[0], p[1], p[2]) {
				change(p)
				return c
			}
		}
		t.Fatal("no scan to edit in prog420.jpg")
		return nil
	}
	refine := func(ns int, ss, se, ahal byte) bool { return ss > 0 && ahal>>4 > 0 }
	acFirst := func(ns int, ss, se, ahal byte) bool { return ss > 0 && ahal>>4 == 0 }
	dc := func(ns int, ss, se, ahal byte) bool { return ss == 0 }
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"refinement Al != Ah-1", edit(refine, func(p []byte) { p[2] = p[2]&0xF0 | (p[2]>>4 + 1) })},
		{"Al over 13", edit(acFirst, func(p []byte) { p[2] = 14 })},
		{"Ss > Se", edit(acFirst, func(p []byte) { p[0], p[1] = 9, 5 })},
		{"Se over 63", edit(acFirst, func(p []byte) { p[1] = 64 })},
		{"DC scan with Se != 0", edit(dc, func(p []byte) { p[1] = 5 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jpeg.Decode(bytes.NewReader(tc.data)); err == nil && tc.name != "Al over 13" {
				t.Errorf("image/jpeg decodes it: the edit is not what the test means")
			}
			for _, s := range []int{1, 8} {
				if _, err := Decode(context.Background(), tc.data, s); !errors.Is(err, ErrFormat) {
					t.Errorf("scale 1/%d: err = %v, want ErrFormat", s, err)
				}
			}
		})
	}
}

// TestRestartNumbering: restart markers come RST0, RST1, ... RST7, RST0 in
// every scan; one out of sequence is refused, as image/jpeg refuses it.
func TestRestartNumbering(t *testing.T) {
	for _, name := range []string{"testdata/base422rst.jpg", "testdata/prog444rst.jpg"} {
		good := readOr(t, name)
		if _, err := Decode(context.Background(), good, 1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bad := bytes.Clone(good)
		i := bytes.Index(bad[sosHeaders(bad)[0]:], []byte{0xFF, 0xD1}) // the second interval's marker
		if i < 0 {
			t.Fatalf("%s has no RST1", name)
		}
		bad[sosHeaders(bad)[0]+i+1] = 0xD3
		if _, err := jpeg.Decode(bytes.NewReader(bad)); err == nil {
			t.Errorf("%s: image/jpeg decodes it", name)
		}
		for _, s := range []int{1, 8} {
			if _, err := Decode(context.Background(), bad, s); !errors.Is(err, ErrFormat) {
				t.Errorf("%s at 1/%d: err = %v, want ErrFormat", name, s, err)
			}
		}
	}
}

// TestTruncatedScanClosedByEOI: a scan cut short and closed with an EOI
// is refused even when the cut falls within the decoder's look-ahead: no
// coefficient may come from bits past the end of the data.
func TestTruncatedScanClosedByEOI(t *testing.T) {
	for name, data := range fixtures(t) {
		eoi := bytes.LastIndex(data, []byte{0xFF, 0xD9})
		for _, cut := range []int{1, 3, 16, 200} {
			if eoi-cut <= sosHeaders(data)[len(sosHeaders(data))-1]+20 {
				continue
			}
			c := append(bytes.Clone(data[:eoi-cut]), 0xFF, 0xD9)
			if c[len(c)-3] == 0xFF { // do not leave half a stuffed byte
				continue
			}
			if _, err := Decode(context.Background(), c, 8); err == nil {
				t.Errorf("%s cut by %d bytes: decoded", name, cut)
			}
		}
	}
}
