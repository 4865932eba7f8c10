// Package jpegx decodes baseline JPEGs straight to a reduced size
// ("shrink-on-load"): at scale 1/2, 1/4 or 1/8 each 8x8 block is turned into
// 4x4, 2x2 or 1x1 pixels by an inverse DCT over only the low-frequency
// coefficients, so a 12 MP phone photo headed for 1920 pixels never exists
// at full size. Output stays in YCbCr planes (no colour conversion).
//
// Baseline and progressive Huffman JPEGs are decoded; files it does not
// handle (arithmetic coding, lossless, 12-bit, CMYK/RGB, multi-scan
// baseline, unusual sampling) give ErrUnsupported: the caller falls back to
// image/jpeg, so correctness never depends on this package's coverage.
package jpegx

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
)

// ErrUnsupported marks a valid-looking JPEG this decoder does not handle.
var ErrUnsupported = errors.New("jpegx: unsupported JPEG variant")

// ErrFormat marks a corrupt or truncated JPEG.
var ErrFormat = errors.New("jpegx: corrupt JPEG")

// maxSamples bounds the planes (or progressive coefficients) allocated for
// one image, so a forged header cannot allocate gigabytes; callers check
// their own, lower pixel limits first. Tests lower it.
var maxSamples = 1 << 28

type component struct {
	id     uint8
	h, v   int // sampling factors
	tq     uint8
	dc, ac *huffTable
	pred   int32
	plane  []uint8
	stride int
	n      int // output block side for this component: 8/scale
}

type decoder struct {
	ctx           context.Context // checked per scan and per row of MCUs
	data          []byte
	pos           int
	width, height int
	comps         []component
	quant         [4]*[64]int32 // zigzag order
	huff          [2][4]*huffTable
	restart       int
	rst           int // the next restart marker's number within the scan
	progressive   bool
	coefs         [][]int16 // progressive: every block's coefficients, zigzag order
	adobe         bool
	transform     uint8
	n             int // output block side of luma (and grey): 8/scale
	cn            int // output block side of chroma
	br            bitReader
}

// Decode decodes data at 1/scale (scale 1, 2, 4 or 8) into an *image.YCbCr
// (or *image.Gray for one component). The output is ceil(w/scale) x
// ceil(h/scale) pixels. It stops with ctx's error when ctx is done (the
// check costs one call per scan and per row of MCUs).
func Decode(ctx context.Context, data []byte, scale int) (image.Image, error) {
	if scale != 1 && scale != 2 && scale != 4 && scale != 8 {
		return nil, fmt.Errorf("jpegx: scale %d is not 1, 2, 4 or 8", scale)
	}
	d := &decoder{ctx: ctx, data: data, n: 8 / scale, cn: 8 / scale}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.image(scale)
}

// DecodeSplit decodes a 4:2:0 YCbCr JPEG with its luma at 1/lumaScale and
// its chroma at 1/chromaScale (each 1, 2, 4 or 8, lumaScale < chromaScale):
// shrink-on-load for the chroma, which the output subsamples anyway, while
// the luma keeps enough resolution for a real filter to do the rest of the
// reduction. Other samplings give ErrUnsupported. ctx as for Decode.
func DecodeSplit(ctx context.Context, data []byte, lumaScale, chromaScale int) (*Split, error) {
	ok := func(s int) bool { return s == 1 || s == 2 || s == 4 || s == 8 }
	if !ok(lumaScale) || !ok(chromaScale) || lumaScale >= chromaScale {
		return nil, fmt.Errorf("jpegx: split scales %d/%d", lumaScale, chromaScale)
	}
	d := &decoder{ctx: ctx, data: data, n: 8 / lumaScale, cn: 8 / chromaScale}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.split(), nil
}

// Split is a YCbCr picture whose chroma planes have their own size (see
// DecodeSplit): Y covers Bounds; Cb and Cr cover the same picture at a
// lower resolution.
type Split struct {
	Y      *image.Gray
	Cb, Cr *image.Gray
}

func (m *Split) ColorModel() color.Model { return color.YCbCrModel }
func (m *Split) Bounds() image.Rectangle { return m.Y.Rect }
func (m *Split) Opaque() bool            { return true }

func (m *Split) At(x, y int) color.Color {
	b, c := m.Y.Rect, m.Cb.Rect
	if !image.Pt(x, y).In(b) {
		return color.YCbCr{}
	}
	cx := c.Min.X + (x-b.Min.X)*c.Dx()/b.Dx()
	cy := c.Min.Y + (y-b.Min.Y)*c.Dy()/b.Dy()
	return color.YCbCr{Y: m.Y.GrayAt(x, y).Y, Cb: m.Cb.GrayAt(cx, cy).Y, Cr: m.Cr.GrayAt(cx, cy).Y}
}

// decode reads the markers and entropy-coded data of d.data into the
// components' planes; Decode and DecodeSplit wrap them.
func (d *decoder) decode() error {
	// Check walks the same markers first, before any allocation: it refuses
	// a broken structure, the SOF types decoded nowhere, RST or DNL outside
	// a scan, bad progression and an over-budget file, so this loop only
	// reads what it decodes (and refuses what this decoder does not do).
	if err := Check(d.data); err != nil {
		return err
	}
	d.pos = 2
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return err
		}
		switch {
		case marker == 0xD9: // EOI
			if d.coefs == nil {
				return fmt.Errorf("%w: no scan", ErrFormat)
			}
			d.finishProgressive()
			return nil
		case marker == 0xC0 || marker == 0xC1 || marker == 0xC2: // baseline, extended, progressive (Huffman)
			d.progressive = marker == 0xC2
			if err := d.readSOF(); err != nil {
				return err
			}
		case marker == 0xC4:
			if err := d.readDHT(); err != nil {
				return err
			}
		case marker == 0xDB:
			if err := d.readDQT(); err != nil {
				return err
			}
		case marker == 0xDD:
			if err := d.readDRI(); err != nil {
				return err
			}
		case marker == 0xEE:
			if err := d.readAdobe(); err != nil {
				return err
			}
		case marker == 0xDA:
			if err := d.ctx.Err(); err != nil {
				return err
			}
			if err := d.readSOS(); err != nil {
				return err
			}
			if !d.progressive { // one interleaved scan: done
				return nil
			}
		default: // APPn, COM and others: skip
			if _, err := d.segment(); err != nil {
				return err
			}
		}
	}
}

// nextMarker skips to the next marker and returns its code.
func (d *decoder) nextMarker() (byte, error) {
	for d.pos+1 < len(d.data) {
		if d.data[d.pos] != 0xFF {
			return 0, fmt.Errorf("%w: expected a marker at offset %d", ErrFormat, d.pos)
		}
		m := d.data[d.pos+1]
		if m == 0xFF { // fill byte
			d.pos++
			continue
		}
		d.pos += 2
		return m, nil
	}
	return 0, fmt.Errorf("%w: truncated before a marker", ErrFormat)
}

// segment returns the payload of the length-prefixed segment at pos and
// moves past it.
func (d *decoder) segment() ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, fmt.Errorf("%w: truncated segment", ErrFormat)
	}
	n := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if n < 2 || d.pos+n > len(d.data) {
		return nil, fmt.Errorf("%w: segment length %d", ErrFormat, n)
	}
	p := d.data[d.pos+2 : d.pos+n]
	d.pos += n
	return p, nil
}

func (d *decoder) readSOF() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	if d.comps != nil {
		return fmt.Errorf("%w: two SOF markers", ErrFormat)
	}
	if len(p) < 6 {
		return fmt.Errorf("%w: short SOF", ErrFormat)
	}
	if p[0] != 8 {
		return fmt.Errorf("%w: %d-bit samples", ErrUnsupported, p[0])
	}
	d.height = int(p[1])<<8 | int(p[2])
	d.width = int(p[3])<<8 | int(p[4])
	nc := int(p[5])
	if d.height == 0 {
		return fmt.Errorf("%w: height from DNL", ErrUnsupported)
	}
	if d.width == 0 {
		return fmt.Errorf("%w: zero width", ErrFormat)
	}
	if nc != 1 && nc != 3 {
		return fmt.Errorf("%w: %d components", ErrUnsupported, nc)
	}
	if len(p) < 6+3*nc {
		return fmt.Errorf("%w: short SOF", ErrFormat)
	}
	d.comps = make([]component, nc)
	for i := range d.comps {
		c := &d.comps[i]
		c.id = p[6+3*i]
		c.h, c.v = int(p[7+3*i]>>4), int(p[7+3*i]&15)
		c.tq = p[8+3*i]
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return fmt.Errorf("%w: component %d sampling %dx%d table %d", ErrFormat, i, c.h, c.v, c.tq)
		}
		if nc == 1 { // a lone component's scan is one block per MCU
			c.h, c.v = 1, 1
		}
		c.n = d.n
		if i > 0 {
			c.n = d.cn
		}
	}
	if d.n != d.cn && (nc != 3 || d.comps[0].h != 2 || d.comps[0].v != 2 ||
		d.comps[1].h != 1 || d.comps[1].v != 1 || d.comps[2].h != 1 || d.comps[2].v != 1) {
		return fmt.Errorf("%w: split decode needs 4:2:0", ErrUnsupported) // before any entropy decoding
	}
	return nil
}

func (d *decoder) readDQT() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		if tq > 3 || pq > 1 {
			return fmt.Errorf("%w: quantisation table %d precision %d", ErrFormat, tq, pq)
		}
		size := 64 << pq
		if len(p) < 1+size {
			return fmt.Errorf("%w: short DQT", ErrFormat)
		}
		t := new([64]int32)
		for i := range t {
			if pq == 0 {
				t[i] = int32(p[1+i])
			} else {
				t[i] = int32(p[1+2*i])<<8 | int32(p[2+2*i])
			}
		}
		d.quant[tq] = t
		p = p[1+size:]
	}
	return nil
}

func (d *decoder) readDRI() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	if len(p) != 2 {
		return fmt.Errorf("%w: DRI length", ErrFormat)
	}
	d.restart = int(p[0])<<8 | int(p[1])
	return nil
}

// readAdobe notes the APP14 colour transform: 0 on three components means
// RGB, not YCbCr.
func (d *decoder) readAdobe() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	if len(p) >= 12 && string(p[:5]) == "Adobe" {
		d.adobe, d.transform = true, p[11]
	}
	return nil
}

func (d *decoder) readSOS() error {
	if d.comps == nil {
		return fmt.Errorf("%w: SOS before SOF", ErrFormat)
	}
	p, err := d.segment()
	if err != nil {
		return err
	}
	if len(p) < 1 {
		return fmt.Errorf("%w: short SOS", ErrFormat)
	}
	ns := int(p[0])
	if len(p) != 4+2*ns || ns < 1 || ns > len(d.comps) {
		return fmt.Errorf("%w: SOS length", ErrFormat)
	}
	if len(d.comps) == 3 && (d.adobe && d.transform == 0 || !d.adobe &&
		d.comps[0].id == 'R' && d.comps[1].id == 'G' && d.comps[2].id == 'B') {
		return fmt.Errorf("%w: RGB JPEG", ErrUnsupported)
	}
	if d.progressive {
		return d.progressiveScan(p)
	}
	if ns != len(d.comps) {
		return fmt.Errorf("%w: non-interleaved scans", ErrUnsupported)
	}
	for i := 0; i < ns; i++ {
		id, tables := p[1+2*i], p[2+2*i]
		c := &d.comps[i]
		if c.id != id {
			return fmt.Errorf("%w: scan component order", ErrUnsupported)
		}
		td, ta := tables>>4, tables&15
		if td > 3 || ta > 3 {
			return fmt.Errorf("%w: Huffman table selector", ErrFormat)
		}
		c.dc, c.ac = d.huff[0][td], d.huff[1][ta]
		if c.dc == nil || c.ac == nil || d.quant[c.tq] == nil {
			return fmt.Errorf("%w: scan uses a missing table", ErrFormat)
		}
	}
	// Ss, Se, Ah and Al of a sequential scan are fixed (T.81 table B.3):
	// libjpeg only warns about other values and image/jpeg ignores them.
	return d.decodeScan()
}

// image wraps the decoded planes, cropped to the scaled picture size.
func (d *decoder) image(scale int) (image.Image, error) {
	w, h := (d.width+scale-1)/scale, (d.height+scale-1)/scale
	r := image.Rect(0, 0, w, h)
	y := &d.comps[0]
	if len(d.comps) == 1 {
		return &image.Gray{Pix: y.plane, Stride: y.stride, Rect: r}, nil
	}
	cb, cr := &d.comps[1], &d.comps[2]
	ratio, ok := subsampleRatio(y.h/cb.h, y.v/cb.v)
	if !ok || cb.h != cr.h || cb.v != cr.v || y.h%cb.h != 0 || y.v%cb.v != 0 || cb.stride != cr.stride {
		return nil, fmt.Errorf("%w: sampling %dx%d/%dx%d/%dx%d", ErrUnsupported, y.h, y.v, cb.h, cb.v, cr.h, cr.v)
	}
	return &image.YCbCr{Y: y.plane, Cb: cb.plane, Cr: cr.plane, YStride: y.stride, CStride: cb.stride,
		SubsampleRatio: ratio, Rect: r}, nil
}

func subsampleRatio(h, v int) (image.YCbCrSubsampleRatio, bool) {
	switch [2]int{h, v} {
	case [2]int{1, 1}:
		return image.YCbCrSubsampleRatio444, true
	case [2]int{2, 1}:
		return image.YCbCrSubsampleRatio422, true
	case [2]int{2, 2}:
		return image.YCbCrSubsampleRatio420, true
	case [2]int{1, 2}:
		return image.YCbCrSubsampleRatio440, true
	case [2]int{4, 1}:
		return image.YCbCrSubsampleRatio411, true
	case [2]int{4, 2}:
		return image.YCbCrSubsampleRatio410, true
	}
	return 0, false
}

// split wraps a 4:2:0 picture decoded at two block sizes; readSOF has
// already refused any other sampling for a split decode.
func (d *decoder) split() *Split {
	y, cb, cr := &d.comps[0], &d.comps[1], &d.comps[2]
	ls, cs := 8/d.n, 8/d.cn
	w, h := (d.width+ls-1)/ls, (d.height+ls-1)/ls
	cw, ch := ((d.width+1)/2+cs-1)/cs, ((d.height+1)/2+cs-1)/cs
	cr2 := image.Rect(0, 0, cw, ch)
	return &Split{
		Y:  &image.Gray{Pix: y.plane, Stride: y.stride, Rect: image.Rect(0, 0, w, h)},
		Cb: &image.Gray{Pix: cb.plane, Stride: cb.stride, Rect: cr2},
		Cr: &image.Gray{Pix: cr.plane, Stride: cr.stride, Rect: cr2},
	}
}
