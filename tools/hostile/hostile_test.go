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
