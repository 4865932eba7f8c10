package jpegx

import (
	"encoding/binary"
	"fmt"
	"image"
	"math"
	"math/bits"
	"sync"

	"picbed/imageproc/internal/workers"
)

// Encode writes an opaque picture as a baseline JPEG (4:2:0, quality 1-100
// with the usual IJG scaling of the Annex K tables) with Huffman tables
// optimised for this picture. The alpha channel of m is ignored: callers
// flatten translucent pictures first.
//
// Work is split across two goroutines by MCU rows: every row ends with a
// restart marker, so the halves are entropy-coded independently and simply
// concatenated. The cost is two bytes and a padded byte per 16 pixel rows.
//
// A panic on either half (a bug, or a picture whose pixel slice is shorter
// than its rectangle) is returned as a *workers.PanicError.
func Encode(m *image.RGBA, quality int) ([]byte, error) {
	e := newEncoder(m.Rect, quality)
	e.load = func(mx, my int, b *[6][64]uint8) { loadRGBA(m, e.w, e.h, mx, my, b) }
	return e.encode()
}

// EncodeYCbCr is Encode for a 4:2:0 *image.YCbCr, whose planes are
// transformed as they are (no colour conversion); other subsampling
// ratios are an error.
func EncodeYCbCr(m *image.YCbCr, quality int) ([]byte, error) {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, fmt.Errorf("jpegx: EncodeYCbCr needs 4:2:0, not %v", m.SubsampleRatio)
	}
	e := newEncoder(m.Rect, quality)
	e.load = func(mx, my int, b *[6][64]uint8) { loadYCbCr(m, e.w, e.h, mx, my, b) }
	return e.encode()
}

func (e *encoder) encode() ([]byte, error) {
	if err := e.transform(); err != nil {
		return nil, err
	}
	e.buildTables()
	return e.write()
}

type encoder struct {
	load         func(mx, my int, b *[6][64]uint8) // Y0-Y3, Cb, Cr
	w, h         int
	mcusX, mcusY int
	quant        [2][64]uint8   // zigzag order, as written to DQT
	div          [2][64]float32 // natural order: 1/(q * AAN scale * 8)
	coef         []int16        // 6 blocks per MCU, natural order, quantised, DC as the difference
	nz           []uint64       // per block: bit k set where zigzag coefficient k > 0 is not zero
	freq         [4][257]int64  // DC lum, AC lum, DC chroma, AC chroma
	codes        [4]huffCode
	bits         [4][17]uint8
	vals         [4][]uint8
}

type huffCode struct {
	code [256]uint16
	size [256]uint8
}

// the Annex K base tables in zigzag order (K.1 luminance, K.2 chrominance)
var baseQuant = [2][64]uint8{
	{16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
		26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
		56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
		95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99},
	{17, 18, 18, 24, 21, 24, 47, 26, 26, 47, 99, 66, 56, 66, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99},
}

func newEncoder(b image.Rectangle, quality int) *encoder {
	e := &encoder{w: b.Dx(), h: b.Dy()}
	e.mcusX, e.mcusY = (e.w+15)/16, (e.h+15)/16
	quality = min(max(quality, 1), 100)
	scale := 200 - 2*quality
	if quality < 50 {
		scale = 5000 / quality
	}
	aan := [8]float64{1, 1.387039845, 1.306562965, 1.175875602, 1, 0.785694958, 0.541196100, 0.275899379}
	for t := range e.quant {
		for k, base := range baseQuant[t] {
			q := (int(base)*scale + 50) / 100
			q = min(max(q, 1), 255)
			e.quant[t][k] = uint8(q)
			nat := zigzag[k]
			e.div[t][nat] = float32(1 / (float64(q) * aan[nat/8] * aan[nat%8] * 8))
		}
	}
	e.coef = make([]int16, e.mcusX*e.mcusY*6*64)
	e.nz = make([]uint64, e.mcusX*e.mcusY*6)
	return e
}

// transform converts, transforms and quantises every MCU, and counts the
// symbols each Huffman table will code.
func (e *encoder) transform() error {
	var mu sync.Mutex
	return parallelRows(e.mcusY, func(lo, hi int) {
		var freq [4][257]int64
		var pred [3]int16
		var blocks [6][64]uint8
		for my := lo; my < hi; my++ {
			pred = [3]int16{}
			for mx := 0; mx < e.mcusX; mx++ {
				e.load(mx, my, &blocks)
				i := (my*e.mcusX + mx) * 6
				for b := range blocks {
					c := max(b-3, 0) // component: Y for blocks 0-3, then Cb, Cr
					t := min(c, 1)   // its tables
					out := (*[64]int16)(e.coef[(i+b)*64 : (i+b)*64+64])
					nz := zigzagMask(fdctQuant(&blocks[b], &e.div[t], out))
					dc := out[0]
					out[0] = dc - pred[c]
					pred[c] = dc
					e.nz[i+b] = nz
					count(out, nz, &freq[2*t], &freq[2*t+1])
				}
			}
		}
		mu.Lock()
		for t := range freq {
			for s, n := range freq[t] {
				e.freq[t][s] += n
			}
		}
		mu.Unlock()
	})
}

// loadYCbCr reads MCU (mx, my) of a w x h 4:2:0 picture into its six
// blocks (four Y, then Cb and Cr), replicating the edge samples past the
// picture.
func loadYCbCr(m *image.YCbCr, w, h, mx, my int, blocks *[6][64]uint8) {
	r := m.Rect
	y0 := m.YOffset(r.Min.X, r.Min.Y)
	for j := 0; j < 16; j++ {
		row := m.Y[y0+min(my*16+j, h-1)*m.YStride:]
		loadRow(blocks[(j/8)*2][(j%8)*8:], row, mx*16, w)
		loadRow(blocks[(j/8)*2+1][(j%8)*8:], row, mx*16+8, w)
	}
	cw, ch := (w+1)/2, (h+1)/2
	c0 := m.COffset(r.Min.X, r.Min.Y)
	for j := 0; j < 8; j++ {
		off := c0 + min(my*8+j, ch-1)*m.CStride
		loadRow(blocks[4][j*8:], m.Cb[off:], mx*8, cw)
		loadRow(blocks[5][j*8:], m.Cr[off:], mx*8, cw)
	}
}

// loadRow copies the 8 samples of row from x into dst, repeating the
// row's last sample (w-1) past its end.
func loadRow(dst []uint8, row []uint8, x, w int) {
	dst = dst[:8]
	if x+8 <= w {
		copy(dst, row[x:x+8])
		return
	}
	for i := range dst {
		dst[i] = row[min(x+i, w-1)]
	}
}

// loadRGBA reads the 16x16 pixels of MCU (mx, my) as four Y blocks and
// 2x2-averaged Cb and Cr blocks, replicating the edge pixels past the
// picture. The colour conversion is image/color's RGBToYCbCr (rounded to
// 8 bits, which is what decoders invert best).
func loadRGBA(m *image.RGBA, w, h, mx, my int, blocks *[6][64]uint8) {
	base := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y)
	var cbs, crs [64]int32
	for j := 0; j < 16; j++ {
		py := min(my*16+j, h-1)
		row := m.Pix[base+py*m.Stride:]
		yb := blocks[(j/8)*2:]
		for i := 0; i < 16; i++ {
			px := min(mx*16+i, w-1)
			p := row[px*4 : px*4+3 : px*4+3]
			r, g, b := int32(p[0]), int32(p[1]), int32(p[2])
			yb[i/8][(j%8)*8+i%8] = uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
			c := (j/2)*8 + i/2
			cbs[c] += int32(to8(-11056*r - 21712*g + 32768*b + 257<<15))
			crs[c] += int32(to8(32768*r - 27440*g - 5328*b + 257<<15))
		}
	}
	for i := range cbs {
		blocks[4][i], blocks[5][i] = uint8((cbs[i]+2)>>2), uint8((crs[i]+2)>>2)
	}
}

// to8 is image/color's clamp of a 16.16 value to 8 bits.
func to8(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// fdct is the AAN forward DCT (float, in place). Its outputs are scaled by
// 8 * aan[u] * aan[v], which the quantiser's divisors undo.
func fdct(d *[64]float32) {
	for i := 0; i < 64; i += 8 {
		fdct1(d, i, 1)
	}
	for i := 0; i < 8; i++ {
		fdct1(d, i, 8)
	}
}

func fdct1(d *[64]float32, o, s int) {
	d0, d1, d2, d3 := d[o], d[o+s], d[o+2*s], d[o+3*s]
	d4, d5, d6, d7 := d[o+4*s], d[o+5*s], d[o+6*s], d[o+7*s]
	t0, t7 := d0+d7, d0-d7
	t1, t6 := d1+d6, d1-d6
	t2, t5 := d2+d5, d2-d5
	t3, t4 := d3+d4, d3-d4
	t10, t13 := t0+t3, t0-t3
	t11, t12 := t1+t2, t1-t2
	d[o] = t10 + t11
	d[o+4*s] = t10 - t11
	// every product is converted to float32 before it is added, which
	// forbids a fused multiply-add (GOAMD64=v3 fuses across statements);
	// fdctQuantAVX2 rounds each product first too
	z1 := float32((t12 + t13) * 0.707106781)
	d[o+2*s] = t13 + z1
	d[o+6*s] = t13 - z1
	t10, t11, t12 = t4+t5, t5+t6, t6+t7
	z5 := float32((t10 - t12) * 0.382683433)
	z2 := float32(0.541196100*t10) + z5
	z4 := float32(1.306562965*t12) + z5
	z3 := float32(t11 * 0.707106781)
	z11, z13 := t7+z3, t7-z3
	d[o+5*s] = z13 + z2
	d[o+3*s] = z13 - z2
	d[o+s] = z11 + z4
	d[o+7*s] = z11 - z4
}

// fdctQuantGo transforms and quantises one block of samples into out
// (natural order, rounded half away from zero, clamped to the baseline
// range) and returns the mask of its non-zero coefficients (bit i for
// out[i]); fdctQuantAVX2 gives the same bits.
func fdctQuantGo(src *[64]uint8, div *[64]float32, out *[64]int16) uint64 {
	var d [64]float32
	for i, v := range src {
		d[i] = float32(v) - 128
	}
	fdct(&d)
	var nz uint64
	for i, x := range d {
		x = float32(x * div[i]) // (no fused multiply-add with the rounding below)
		// round half away from zero without a branch: add +-0.5 by sign
		v := int32(x + math.Float32frombits(math.Float32bits(x)&0x80000000|0x3f000000))
		out[i] = int16(min(max(v, -1023), 1023)) // baseline AC range
		if out[i] != 0 {
			nz |= 1 << i
		}
	}
	return nz
}

// zigzagMask turns a natural-order mask of non-zero coefficients into the
// zigzag-order mask of the non-zero AC coefficients (bit 0 clear).
func zigzagMask(m uint64) uint64 {
	var z uint64
	for r := 0; r < 8; r++ {
		z |= zigzagBits[r][uint8(m>>(8*r))]
	}
	return z &^ 1
}

// zigzagBits[r][b] is the zigzag-order mask of the columns b marks in row r.
var zigzagBits = func() (t [8][256]uint64) {
	var pos [64]int // natural index -> zigzag index
	for k, n := range zigzag {
		pos[n] = k
	}
	for r := range t {
		for b := range t[r] {
			for c := 0; c < 8; c++ {
				if b&(1<<c) != 0 {
					t[r][b] |= 1 << pos[r*8+c]
				}
			}
		}
	}
	return t
}()

// count adds the Huffman symbols of a quantised block (natural order, the
// DC already a difference; nz its zigzagMask) to the frequencies.
func count(c *[64]int16, nz uint64, dcFreq, acFreq *[257]int64) {
	dcFreq[bitLen(c[0])]++
	last := 0
	for m := nz; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		run := k - last - 1
		for run > 15 {
			acFreq[0xF0]++
			run -= 16
		}
		acFreq[run<<4|int(bitLen(c[zigzag[k]]))]++
		last = k
	}
	if last != 63 {
		acFreq[0x00]++
	}
}

// bitLen is JPEG's SSSS category: the bits of |v|.
func bitLen(v int16) uint8 {
	u := int32(v)
	if u < 0 {
		u = -u
	}
	return uint8(bits.Len32(uint32(u)))
}

// parallelRows runs fn over MCU rows [0, n) in two bands (one when n is
// small); a panic in either comes back as a *workers.PanicError.
func parallelRows(n int, fn func(lo, hi int)) error {
	if n < 4 {
		return workers.Split(n, 1, fn)
	}
	return workers.Split(n, 2, fn)
}

// buildTables makes the optimal length-limited Huffman code of each table
// (the procedure of ITU T.81 Annex K.2, as libjpeg does).
func (e *encoder) buildTables() {
	for t := range e.freq {
		e.bits[t], e.vals[t] = optimalTable(e.freq[t])
		e.codes[t] = canonical(e.bits[t], e.vals[t])
	}
}

func optimalTable(f [257]int64) ([17]uint8, []uint8) {
	freq := f
	freq[256] = 1 // reserves the all-ones code
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	for {
		c1, c2 := -1, -1
		var v1, v2 int64 = math.MaxInt64, math.MaxInt64
		for i := 0; i <= 256; i++ { // smallest, ties to the larger symbol
			if freq[i] != 0 && freq[i] <= v1 {
				v1, c1 = freq[i], i
			}
		}
		for i := 0; i <= 256; i++ {
			if freq[i] != 0 && freq[i] <= v2 && i != c1 {
				v2, c2 = freq[i], i
			}
		}
		if c2 < 0 {
			break
		}
		freq[c1] += freq[c2]
		freq[c2] = 0
		codesize[c1]++
		for others[c1] >= 0 {
			c1 = others[c1]
			codesize[c1]++
		}
		others[c1] = c2
		codesize[c2]++
		for others[c2] >= 0 {
			c2 = others[c2]
			codesize[c2]++
		}
	}
	var bits [33]int
	for i := 0; i <= 256; i++ {
		if codesize[i] > 0 {
			bits[codesize[i]]++
		}
	}
	for i := 32; i > 16; i-- { // limit code lengths to 16
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	i := 16
	for bits[i] == 0 {
		i--
	}
	bits[i]-- // drop the reserved code
	var out [17]uint8
	for l := 1; l <= 16; l++ {
		out[l] = uint8(bits[l])
	}
	var vals []uint8
	for l := 1; l <= 32; l++ {
		for s := 0; s < 256; s++ {
			if codesize[s] == l {
				vals = append(vals, uint8(s))
			}
		}
	}
	return out, vals
}

func canonical(bits [17]uint8, vals []uint8) huffCode {
	var h huffCode
	code, k := uint16(0), 0
	for l := 1; l <= 16; l++ {
		for i := 0; i < int(bits[l]); i++ {
			h.code[vals[k]], h.size[vals[k]] = code, uint8(l)
			code++
			k++
		}
		code <<= 1
	}
	return h
}

// write emits the headers and the entropy-coded data.
func (e *encoder) write() ([]byte, error) {
	halves := [2][]byte{}
	if err := parallelRows(e.mcusY, func(lo, hi int) { halves[min(lo, 1)] = e.entropy(lo, hi) }); err != nil {
		return nil, err
	}

	out := make([]byte, 0, len(halves[0])+len(halves[1])+1024)
	out = append(out, 0xFF, 0xD8)
	// DQT
	out = append(out, 0xFF, 0xDB, 0, 2+2*65, 0x00)
	out = append(out, e.quant[0][:]...)
	out = append(out, 0x01)
	out = append(out, e.quant[1][:]...)
	// SOF0
	out = append(out, 0xFF, 0xC0, 0, 17, 8, byte(e.h>>8), byte(e.h), byte(e.w>>8), byte(e.w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	// DHT
	n := 2
	for t := range e.bits {
		n += 17 + len(e.vals[t])
	}
	out = append(out, 0xFF, 0xC4, byte(n>>8), byte(n))
	for t, class := range []byte{0x00, 0x10, 0x01, 0x11} {
		out = append(out, class)
		out = append(out, e.bits[t][1:]...)
		out = append(out, e.vals[t]...)
	}
	// DRI: one restart interval per MCU row
	out = append(out, 0xFF, 0xDD, 0, 4)
	out = binary.BigEndian.AppendUint16(out, uint16(e.mcusX))
	// SOS
	out = append(out, 0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	out = append(out, halves[0]...)
	out = append(out, halves[1]...)
	return append(out, 0xFF, 0xD9), nil
}

// entropy codes MCU rows [lo, hi), each ended by its restart marker
// (except the picture's last row).
func (e *encoder) entropy(lo, hi int) []byte {
	bw := bitWriter{buf: make([]byte, 0, len(e.coef)/(e.mcusY*4)*(hi-lo)+64)}
	tables := [6][2]*huffCode{
		{&e.codes[0], &e.codes[1]}, {&e.codes[0], &e.codes[1]}, {&e.codes[0], &e.codes[1]}, {&e.codes[0], &e.codes[1]},
		{&e.codes[2], &e.codes[3]}, {&e.codes[2], &e.codes[3]},
	}
	for my := lo; my < hi; my++ {
		for mx := 0; mx < e.mcusX; mx++ {
			i := (my*e.mcusX + mx) * 6
			for b := 0; b < 6; b++ {
				bw.block((*[64]int16)(e.coef[(i+b)*64:(i+b)*64+64]), e.nz[i+b], tables[b][0], tables[b][1])
			}
		}
		if my != e.mcusY-1 {
			bw.flush()
			bw.buf = append(bw.buf, 0xFF, 0xD0+byte(my%8))
		}
	}
	bw.flush()
	return bw.buf
}

// bitWriter packs codes MSB first and stuffs a zero after every 0xFF.
type bitWriter struct {
	buf []byte
	acc uint64 // the pending bits are the n lowest
	n   uint
}

// put appends the size (<= 32) low bits of code. Whole 32-bit words
// leave at once unless one of their bytes needs stuffing.
func (bw *bitWriter) put(code uint32, size uint8) {
	bw.acc = bw.acc<<size | uint64(code)&(1<<size-1)
	bw.n += uint(size)
	if bw.n < 32 {
		return
	}
	bw.n -= 32
	v := uint32(bw.acc >> bw.n)
	if x := ^v; (x-0x01010101)&^x&0x80808080 == 0 { // no 0xFF byte
		bw.buf = binary.BigEndian.AppendUint32(bw.buf, v)
		return
	}
	for i := 24; i >= 0; i -= 8 {
		bw.byte(byte(v >> i))
	}
}

func (bw *bitWriter) byte(b byte) {
	if b == 0xFF {
		bw.buf = append(bw.buf, 0xFF, 0x00)
	} else {
		bw.buf = append(bw.buf, b)
	}
}

// flush writes the pending bits, the last byte padded with ones.
func (bw *bitWriter) flush() {
	if pad := (8 - bw.n%8) % 8; pad > 0 {
		bw.acc = bw.acc<<pad | 1<<pad - 1
		bw.n += pad
	}
	for bw.n >= 8 {
		bw.n -= 8
		bw.byte(byte(bw.acc >> bw.n))
	}
	bw.acc, bw.n = 0, 0
}

// symbol writes Huffman symbol sym of h, then the low sym&15 bits of v
// (JPEG's magnitude bits: one's complement for negatives), in one put.
func (bw *bitWriter) symbol(h *huffCode, sym uint8, v int16) {
	s := sym & 15
	u := int32(v)
	if u < 0 {
		u-- // one's complement for negatives
	}
	bw.put(uint32(h.code[sym])<<s|uint32(u)&(1<<s-1), h.size[sym]+s)
}

// block writes one quantised block (natural order; nz its zigzagMask).
func (bw *bitWriter) block(c *[64]int16, nz uint64, dc, ac *huffCode) {
	bw.symbol(dc, bitLen(c[0]), c[0])
	last := 0
	for m := nz; m != 0; m &= m - 1 {
		k := bits.TrailingZeros64(m)
		run := k - last - 1
		for run > 15 {
			bw.put(uint32(ac.code[0xF0]), ac.size[0xF0])
			run -= 16
		}
		v := c[zigzag[k]]
		bw.symbol(ac, uint8(run<<4)|bitLen(v), v)
		last = k
	}
	if last != 63 {
		bw.put(uint32(ac.code[0x00]), ac.size[0x00])
	}
}
