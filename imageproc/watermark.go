package imageproc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Watermark is a logo (PNG with alpha) or a line of text drawn onto every
// processed image. Build it with NewWatermark, which validates it and
// parses the font and logo once; a Watermark written as a literal still
// works but is re-parsed on every image.
type Watermark struct {
	Image    []byte  // PNG bytes; used when set
	Text     string  // drawn with Font when Image is empty
	Font     []byte  // TTF/OTF (or a TTC collection: its first font); nil = the built-in Go Bold
	Position string  // one of Positions; "" = bottom-right
	Opacity  float64 // 0..1; 0 = 0.7
	Scale    float64 // watermark width relative to the image width, 0..1; 0 = 0.15
	Margin   float64 // gap to the edges relative to the image's shorter side; 0 = 0.02

	prep *preparedWatermark
}

// Positions are the nine places a watermark can go.
var Positions = []string{"top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right"}

// minWatermarkWidth is the narrowest a watermark is drawn: below this a logo
// or text is an unreadable smudge, so small images go without.
const minWatermarkWidth = 24

// preparedWatermark is what NewWatermark computes once.
type preparedWatermark struct {
	logo *image.NRGBA
	font *sfnt.Font
	key  string
}

// NewWatermark validates w, parses its font or decodes its logo once and
// precomputes its Key. A text with a character the font has no glyph for is
// an error naming that character (Chinese text needs a CJK font file).
func NewWatermark(w Watermark) (*Watermark, error) {
	if w.Position == "" {
		w.Position = "bottom-right"
	}
	if w.Opacity == 0 {
		w.Opacity = 0.7
	}
	if w.Scale == 0 {
		w.Scale = 0.15
	}
	if w.Margin == 0 {
		w.Margin = 0.02
	}
	var errs []error
	if !validPosition(w.Position) {
		errs = append(errs, fmt.Errorf("position %q is not one of %s", w.Position, strings.Join(Positions, ", ")))
	}
	if w.Opacity < 0 || w.Opacity > 1 || math.IsNaN(w.Opacity) {
		errs = append(errs, fmt.Errorf("opacity %g is not in (0, 1]", w.Opacity))
	}
	if w.Scale < 0 || w.Scale > 1 || math.IsNaN(w.Scale) {
		errs = append(errs, fmt.Errorf("scale %g is not in (0, 1]", w.Scale))
	}
	if w.Margin < 0 || w.Margin > 0.5 || math.IsNaN(w.Margin) {
		errs = append(errs, fmt.Errorf("margin %g is not in [0, 0.5]", w.Margin))
	}
	p, err := prepareWatermark(&w)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w.prep = p
	return &w, nil
}

// WatermarkError says the watermark cannot be used as configured; Field
// tells the caller which setting to blame ("text", "font" or "image").
type WatermarkError struct {
	Field string
	Err   error
}

func (e *WatermarkError) Error() string { return e.Err.Error() }
func (e *WatermarkError) Unwrap() error { return e.Err }

func validPosition(p string) bool {
	for _, q := range Positions {
		if p == q {
			return true
		}
	}
	return false
}

// prepareWatermark decodes the logo or parses the font and checks the text.
func prepareWatermark(w *Watermark) (*preparedWatermark, error) {
	p := &preparedWatermark{key: watermarkKey(w)}
	if len(w.Image) > 0 {
		if f, _ := Sniff(w.Image); f != PNG {
			return nil, &WatermarkError{"image", errors.New("the watermark image is not a PNG")}
		}
		m, err := png.Decode(bytes.NewReader(w.Image))
		if err != nil {
			return nil, &WatermarkError{"image", fmt.Errorf("cannot decode the watermark PNG: %v", err)}
		}
		p.logo = image.NewNRGBA(m.Bounds())
		draw.Draw(p.logo, p.logo.Bounds(), m, m.Bounds().Min, draw.Src)
		return p, nil
	}
	if strings.TrimSpace(w.Text) == "" {
		return nil, &WatermarkError{"text", errors.New("the watermark has neither an image nor a text")}
	}
	data := w.Font
	if data == nil {
		data = gobold.TTF
	}
	f, err := parseFont(data)
	if err != nil {
		return nil, &WatermarkError{"font", fmt.Errorf("cannot read the font: %v", err)}
	}
	var buf sfnt.Buffer
	for _, r := range w.Text {
		if unicode.IsControl(r) {
			return nil, &WatermarkError{"text", fmt.Errorf("the text has a control character U+%04X", r)}
		}
		if r == ' ' {
			continue
		}
		if g, err := f.GlyphIndex(&buf, r); err != nil || g == 0 {
			return nil, &WatermarkError{"text", fmt.Errorf("the font has no glyph for %q (U+%04X); Chinese, Japanese or Korean text needs a CJK font file", r, r)}
		}
	}
	p.font = f
	return p, nil
}

// parseFont reads a TTF/OTF, or the first font of a TTC collection (how
// most CJK fonts ship).
func parseFont(b []byte) (*sfnt.Font, error) {
	if bytes.HasPrefix(b, []byte("ttcf")) {
		c, err := opentype.ParseCollection(b)
		if err != nil {
			return nil, err
		}
		return c.Font(0)
	}
	return opentype.Parse(b)
}

// Key identifies the watermark's effect on output bytes. NewWatermark
// computes it once; a literal Watermark hashes its bytes on every call.
func (w *Watermark) Key() string {
	if w.prep != nil {
		return w.prep.key
	}
	return watermarkKey(w)
}

func watermarkKey(w *Watermark) string {
	s := sha256.New()
	fmt.Fprintf(s, "%d:%x|%q|%d:%x|%s|%g|%g|%g", len(w.Image), w.Image, w.Text, len(w.Font), w.Font, w.Position, w.Opacity, w.Scale, w.Margin)
	return hex.EncodeToString(s.Sum(nil)[:8])
}

// draw puts the watermark onto dst. It reports why it did not when the
// image is too small to carry it.
func (w *Watermark) draw(dst *image.RGBA) (drawn bool, why string, err error) {
	mark, r, alpha, why, err := w.layout(dst.Bounds())
	if mark == nil {
		return false, why, err
	}
	draw.DrawMask(dst, r, mark, mark.Bounds().Min, alpha, image.Point{}, draw.Over)
	return true, "", nil
}

// drawPlanes puts the watermark onto a 4:2:0 picture at the origin without
// turning the rest of it into RGB: only the mark's rectangle (widened to
// whole chroma samples) goes to RGBA and back, so every other pixel keeps
// its exact Y, Cb and Cr (a full RGB round trip costs rounding and
// clipping, and time).
func (w *Watermark) drawPlanes(m *image.YCbCr) (drawn bool, why string, err error) {
	b := m.Rect
	mark, r, alpha, why, err := w.layout(b)
	if mark == nil {
		return false, why, err
	}
	r2 := image.Rect(r.Min.X&^1, r.Min.Y&^1, min((r.Max.X+1)&^1, b.Max.X), min((r.Max.Y+1)&^1, b.Max.Y))
	sub := image.NewRGBA(image.Rect(0, 0, r2.Dx(), r2.Dy()))
	draw.Draw(sub, sub.Rect, m, r2.Min, draw.Src)
	draw.DrawMask(sub, r.Sub(r2.Min), mark, mark.Bounds().Min, alpha, image.Point{}, draw.Over)
	for y := r2.Min.Y; y < r2.Max.Y; y += 2 {
		for x := r2.Min.X; x < r2.Max.X; x += 2 {
			var cb, cr, n int
			for yy := y; yy < min(y+2, r2.Max.Y); yy++ {
				for xx := x; xx < min(x+2, r2.Max.X); xx++ {
					i := sub.PixOffset(xx-r2.Min.X, yy-r2.Min.Y)
					yv, u, v := color.RGBToYCbCr(sub.Pix[i], sub.Pix[i+1], sub.Pix[i+2])
					m.Y[m.YOffset(xx, yy)] = yv
					cb, cr, n = cb+int(u), cr+int(v), n+1
				}
			}
			ci := m.COffset(x, y)
			m.Cb[ci], m.Cr[ci] = uint8((cb+n/2)/n), uint8((cr+n/2)/n)
		}
	}
	return true, "", nil
}

// layout is the mark, where it goes in b and its opacity; a nil mark with
// why (or err) when it is not drawn.
func (w *Watermark) layout(b image.Rectangle) (mark image.Image, r image.Rectangle, alpha *image.Uniform, why string, err error) {
	p := w.prep
	if p == nil {
		nw, err := NewWatermark(*w)
		if err != nil {
			return nil, r, nil, "", err
		}
		w, p = nw, nw.prep
	}
	mw := int(math.Round(w.Scale * float64(b.Dx())))
	if mw < minWatermarkWidth {
		return nil, r, nil, fmt.Sprintf("watermark skipped: the image is too small (%dx%d)", b.Dx(), b.Dy()), nil
	}
	if p.logo != nil {
		lb := p.logo.Bounds()
		mh := max(1, int(math.Round(float64(mw)*float64(lb.Dy())/float64(lb.Dx()))))
		if mark, err = resize(p.logo, lb.Size(), mw, mh); err != nil {
			return nil, r, nil, "", err
		}
	} else {
		mark, err = renderText(p.font, w.Text, mw)
		if err != nil {
			return nil, r, nil, "", err
		}
	}
	margin := int(math.Round(w.Margin * float64(min(b.Dx(), b.Dy()))))
	r = place(b, mark.Bounds().Size(), w.Position, margin)
	if !r.In(b) {
		return nil, r, nil, fmt.Sprintf("watermark skipped: the image is too small (%dx%d)", b.Dx(), b.Dy()), nil
	}
	alpha = image.NewUniform(color.Alpha{A: uint8(math.Round(w.Opacity * 255))})
	return mark, r, alpha, "", nil
}

// place is where a mark of size s goes in b at position pos, margin pixels
// from the edges it is near.
func place(b image.Rectangle, s image.Point, pos string, margin int) image.Rectangle {
	x := b.Min.X + (b.Dx()-s.X)/2
	y := b.Min.Y + (b.Dy()-s.Y)/2
	if strings.HasSuffix(pos, "left") {
		x = b.Min.X + margin
	} else if strings.HasSuffix(pos, "right") {
		x = b.Max.X - margin - s.X
	}
	if strings.HasPrefix(pos, "top") {
		y = b.Min.Y + margin
	} else if strings.HasPrefix(pos, "bottom") {
		y = b.Max.Y - margin - s.Y
	}
	return image.Rectangle{Min: image.Pt(x, y), Max: image.Pt(x+s.X, y+s.Y)}
}

// renderText draws text in white with a soft dark shadow (readable on light
// and dark photos) at the size that makes it width pixels wide.
func renderText(f *sfnt.Font, text string, width int) (image.Image, error) {
	const ref = 64.0
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: ref, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	adv := font.MeasureString(face, text)
	face.Close()
	if adv <= 0 {
		return nil, errors.New("the watermark text has no width")
	}
	size := ref * float64(width) / (float64(adv) / 64)
	face, err = opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, err
	}
	defer face.Close()
	m := face.Metrics()
	shadow := max(1, int(size/24))
	h := (m.Ascent + m.Descent).Ceil() + shadow
	w := font.MeasureString(face, text).Ceil() + shadow
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: dst, Face: face, Src: image.NewUniform(color.NRGBA{0, 0, 0, 128})}
	d.Dot = fixed.Point26_6{X: fixed.I(shadow), Y: m.Ascent + fixed.I(shadow)}
	d.DrawString(text)
	d.Src = image.White
	d.Dot = fixed.Point26_6{X: 0, Y: m.Ascent}
	d.DrawString(text)
	return dst, nil
}
