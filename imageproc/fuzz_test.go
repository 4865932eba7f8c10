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
func FuzzProcess(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b, uint8(0)); f.Add(b, uint8(1)) })
	recipes := []Recipe{
		{Strip: true},
		{Strip: true, MaxWidth: 64, MaxHeight: 64},
		{Strip: true, Format: JPEG},
		{Strip: true, Format: PNG, Watermark: &Watermark{Text: "pb"}},
	}
	f.Fuzz(func(t *testing.T, src []byte, mode uint8) {
		r := recipes[int(mode)%len(recipes)]
		r.Limits = Limits{MaxPixels: 2_000_000, MaxSide: 4096, MaxFrames: 50}
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
