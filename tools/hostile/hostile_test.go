package hostile

import (
	"errors"
	"testing"

	"picbed/imageproc"
)

// TestBombsAreReadAsHuge checks that every bomb is a well-formed header of
// its format declaring a huge image: refused as too large, not as corrupt
// (which would prove nothing about allocation).
func TestBombsAreReadAsHuge(t *testing.T) {
	limits := imageproc.Limits{MaxPixels: 50_000_000, MaxSide: 65535}
	for name, b := range Bombs() {
		t.Run(name, func(t *testing.T) {
			h, err := imageproc.ReadHeader(b)
			if err != nil {
				t.Fatalf("ReadHeader = %v, want a readable header", err)
			}
			if err := imageproc.CheckLimits(h, limits); !errors.Is(err, imageproc.ErrTooLarge) {
				t.Errorf("CheckLimits(%dx%d) = %v, want ErrTooLarge", h.Width, h.Height, err)
			}
		})
	}
}

func TestPolyglotIsAGIF(t *testing.T) {
	h, err := imageproc.ReadHeader(GIFJSPolyglot())
	if err != nil || h.Format != imageproc.GIF {
		t.Errorf("ReadHeader(GIF/JS) = %+v, %v; want a GIF header", h, err)
	}
}

// TestLiarsAreRefusedAsCorrupt: each lying file's container and bitstream
// disagree, which ReadHeader refuses (or, for the VP8X after a 10000x10000
// bitstream, reads the bitstream's size, which the limits refuse).
func TestLiarsAreRefusedAsCorrupt(t *testing.T) {
	limits := imageproc.Limits{MaxPixels: 50_000_000, MaxSide: 65535}
	for name, b := range Liars() {
		t.Run(name, func(t *testing.T) {
			h, err := imageproc.ReadHeader(b)
			if err == nil {
				err = imageproc.CheckLimits(h, limits)
			}
			if !errors.Is(err, imageproc.ErrCorrupt) && !errors.Is(err, imageproc.ErrTooLarge) {
				t.Errorf("ReadHeader = %+v, %v; want refused", h, err)
			}
		})
	}
}
