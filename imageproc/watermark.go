package imageproc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Watermark is a logo (PNG with alpha) or a line of text drawn onto every
// processed image.
type Watermark struct {
	Image    []byte  // PNG bytes; used when set
	Text     string  // drawn with Font when Image is empty
	Font     []byte  // TTF/OTF; nil = the built-in Latin font
	Position string  // one of nine: top-left ... bottom-right, center
	Opacity  float64 // 0..1
	Scale    float64 // watermark width relative to the image width, 0..1
}

// Key identifies the watermark's effect on output bytes.
func (w *Watermark) Key() string {
	s := sha256.New()
	fmt.Fprintf(s, "%d:%x|%q|%d:%x|%s|%g|%g", len(w.Image), w.Image, w.Text, len(w.Font), w.Font, w.Position, w.Opacity, w.Scale)
	return hex.EncodeToString(s.Sum(nil)[:8])
}
