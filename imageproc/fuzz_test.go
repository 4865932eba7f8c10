package imageproc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets start from every image in testdata/ (and the bombs); a
// plain `go test` runs just those seeds, `make fuzz` explores for a bounded
// time.

func addSeeds(f *testing.F, add func(b []byte)) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*"))
	for _, p := range files {
		switch filepath.Ext(p) {
		case ".jpg", ".png", ".gif", ".webp", ".heic", ".avif":
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			add(b)
		}
	}
	for _, b := range [][]byte{pngBomb(), gifBomb(2, 300), jpegBomb(), webpBomb(true), bmpBomb(), tiffBomb()} {
		add(b)
	}
}

// fuzzMaxBytes bounds FuzzProcess's inputs: the largest seed is 170 KB.
const fuzzMaxBytes = 256 << 10

// FuzzSniff: ReadHeader never panics, and what it accepts has a sane size.
func FuzzSniff(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, src []byte) {
		h, err := ReadHeader(src)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if h.Width <= 0 || h.Height <= 0 || h.Frames < 1 {
			t.Fatalf("accepted header %+v", h)
		}
	})
}

// FuzzStrip: the lossless strip never panics, never grows the file (beyond
// the small EXIF block that keeps the orientation), and is idempotent.
func FuzzStrip(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, src []byte) {
		fm, err := Sniff(src)
		if err != nil || (fm != JPEG && fm != PNG && fm != GIF && fm != WebP) {
			return
		}
		out, _, err := strip(src, fm)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if len(out) > len(src)+len(minimalEXIF(1))+2 {
			t.Fatalf("strip grew %d -> %d bytes", len(src), len(out))
		}
		again, _, err := strip(out, fm)
		if err != nil {
			t.Fatalf("the stripped output does not strip again: %v", err)
		}
		if !bytes.Equal(again, out) {
			t.Fatalf("strip is not idempotent: %d -> %d bytes", len(out), len(again))
		}
	})
}

// FuzzProcess: Process never panics, fails only with its own error kinds,
// and keeps the output-format contract.
//
// Go's fuzzer kills an input that runs 10 s, and a loaded CI machine runs
// the workers at a fraction of a core each, so every input is bounded to
// well under a second of work: inputs up to fuzzMaxBytes (the seeds are
// smaller), pictures up to 2 MP (phone.jpg still takes the DCT-shrink
// path), HEIC/AVIF, whose WASM decoders cost the most per pixel, up to
// 0.3 MP (four times their seeds), and the JPEG scan budget, which holds
// for every input. The WASM modules are compiled once per worker before
// any input runs, not inside the first input's 10 s.
func FuzzProcess(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0)); f.Add(b, uint8(1)) })
	recipes := []Recipe{
		{Strip: true},
		{Strip: true, MaxWidth: 64, MaxHeight: 64},
		{Strip: true, Format: JPEG},
		{Strip: true, Format: PNG, Watermark: &Watermark{Text: "pb"}},
	}
	for _, name := range []string{"phone.heic", "phone.avif", "animated.webp"} {
		if _, err := Process(context.Background(), fixture(f, name), Recipe{Format: JPEG}); err != nil {
			f.Fatalf("warming the %s decoder: %v", name, err)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, mode uint8) {
		if len(src) > fuzzMaxBytes {
			return
		}
		r := recipes[int(mode)%len(recipes)]
		r.Limits = Limits{MaxPixels: 2_000_000, MaxSide: 2048, MaxFrames: 16}
		if f, _ := Sniff(src); f == HEIC || f == AVIF {
			r.Limits.MaxPixels = 320 * 240 * 4
		}
		res, err := Process(context.Background(), src, r)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if want := r.OutputFormat(res.Info.Source.Format); res.Info.Output.Format != want {
			t.Fatalf("output %s, want %s", res.Info.Output.Format, want)
		}
		if len(res.Data) == 0 {
			t.Fatal("empty output")
		}
	})
}
