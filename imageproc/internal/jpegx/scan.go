package jpegx

import "fmt"

// decodeScan decodes the one interleaved baseline scan into the
// components' planes at the decoder's block size.
func (d *decoder) decodeScan() error {
	hmax, vmax := 1, 1
	for _, c := range d.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mcusX := (d.width + 8*hmax - 1) / (8 * hmax)
	mcusY := (d.height + 8*vmax - 1) / (8 * vmax)
	total := 0
	for i := range d.comps {
		c := &d.comps[i]
		c.stride = mcusX * c.h * c.n
		rows := mcusY * c.v * c.n
		total += c.stride * rows
		if total > maxSamples {
			return fmt.Errorf("%w: %dx%d is too large to decode", ErrFormat, d.width, d.height)
		}
	}
	for i := range d.comps {
		c := &d.comps[i]
		c.plane = make([]uint8, c.stride*mcusY*c.v*c.n)
	}
	d.br, d.rst = bitReader{data: d.data, pos: d.pos}, 0
	var idcts [4]idctFunc
	var needs [4]*[64]bool
	for i := range d.comps {
		idcts[i], needs[i] = idctFor(d.comps[i].n), needMask(d.comps[i].n)
	}
	var blk [64]int32
	mcu := 0
	for my := 0; my < mcusY; my++ {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		for mx := 0; mx < mcusX; mx++ {
			if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
				if err := d.restartMarker(); err != nil {
					return err
				}
			}
			mcu++
			for ci := range d.comps {
				c := &d.comps[ci]
				q := d.quant[c.tq]
				idct, need, n := idcts[ci], needs[ci], c.n
				for by := 0; by < c.v; by++ {
					for bx := 0; bx < c.h; bx++ {
						acs, err := d.decodeBlock(c, q, &blk, need)
						if err != nil {
							return err
						}
						x := (mx*c.h + bx) * n
						y := (my*c.v + by) * n
						dst := c.plane[y*c.stride+x:]
						if acs {
							idct(&blk, dst, c.stride)
						} else {
							fillDC(blk[0], dst, c.stride, n)
						}
						blk = [64]int32{}
					}
				}
			}
		}
	}
	return d.br.end()
}

// restartMarker consumes the next RSTn marker between intervals (RST0 to
// RST7 in turn from each scan's start, as T.81 F.1.2.3 numbers them and
// libjpeg and image/jpeg insist) and resets the DC predictors.
func (d *decoder) restartMarker() error {
	br := &d.br
	if br.overrun() {
		return fmt.Errorf("%w: a restart interval ends early", ErrFormat)
	}
	br.acc, br.n, br.marker, br.zeros = 0, 0, false, 0
	for br.pos < len(br.data) && br.data[br.pos] != 0xFF { // tolerate garbage before RST
		br.pos++
	}
	for br.pos+1 < len(br.data) && br.data[br.pos+1] == 0xFF {
		br.pos++
	}
	if br.pos+1 >= len(br.data) {
		return fmt.Errorf("%w: truncated at a restart marker", ErrFormat)
	}
	if m, want := br.data[br.pos+1], byte(0xD0+d.rst%8); m != want {
		return fmt.Errorf("%w: expected RST%d, found marker %#x", ErrFormat, d.rst%8, m)
	}
	d.rst++
	br.pos += 2
	for i := range d.comps {
		d.comps[i].pred = 0
	}
	return nil
}

// decodeBlock reads one block's coefficients and stores the dequantised
// ones inside the needed low-frequency corner into blk (natural order). It
// reports whether any stored AC coefficient is non-zero.
func (d *decoder) decodeBlock(c *component, q *[64]int32, blk *[64]int32, need *[64]bool) (bool, error) {
	br := &d.br
	if br.n < 32 {
		br.fill()
	}
	var diff int32
	if fa := c.dc.fastAC[br.acc>>(64-lutBits)]; fa != 0 && fa&0xF0 == 0 {
		// code and magnitude bits in one lookup, as for the AC (a DC
		// symbol is a size with no run; a DC diff of 0 takes the long way)
		l := uint(fa & 15)
		br.acc <<= l
		br.n -= l
		diff = int32(fa >> 8)
	} else {
		t, err := br.decodeHuff(c.dc)
		if err != nil {
			return false, err
		}
		if t > 11 {
			return false, fmt.Errorf("%w: DC magnitude %d", ErrFormat, t)
		}
		if t > 0 {
			if br.n < 16 {
				br.fill()
			}
			diff = br.receiveExtend(uint(t))
		}
	}
	c.pred += diff
	blk[0] = c.pred * q[0]
	acs := false
	// The AC loop keeps the bit buffer in locals (the compiler cannot
	// keep br's fields in registers across the stores into blk) and
	// hands them back around the calls that use br.
	acc, n := br.acc, br.n
	fast := &c.ac.fastAC
	for k := 1; k < 64; {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		if fa := fast[acc>>(64-lutBits)]; fa != 0 {
			l := uint(fa & 15)
			acc <<= l
			n -= l
			k += int(fa>>4) & 15
			if k > 63 {
				br.acc, br.n = acc, n
				return false, fmt.Errorf("%w: AC run past the block", ErrFormat)
			}
			if need[k] {
				blk[zigzag[k]&63] = int32(fa>>8) * q[k]
				acs = true
			}
			k++
			continue
		}
		br.acc, br.n = acc, n
		rs, err := br.decodeHuff(c.ac)
		if err != nil {
			return false, err
		}
		r, s := int(rs>>4), uint(rs&15)
		if s == 0 {
			acc, n = br.acc, br.n
			if r != 15 {
				break
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return false, fmt.Errorf("%w: AC run past the block", ErrFormat)
		}
		if need[k] {
			blk[zigzag[k]&63] = br.receiveExtend(s) * q[k]
			acs = true
		} else {
			br.skip(s)
		}
		acc, n = br.acc, br.n
		k++
	}
	br.acc, br.n = acc, n
	return acs, br.err
}

// zigzag maps a zigzag index to the natural (row-major) index.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

var needMasks [9][64]bool

func init() {
	for _, n := range []int{1, 2, 4, 8} {
		for k, nat := range zigzag {
			needMasks[n][k] = nat/8 < n && nat%8 < n
		}
	}
}

// needMask marks the zigzag positions inside the n x n low-frequency corner
// (position 0, the DC, is handled separately).
func needMask(n int) *[64]bool { return &needMasks[n] }
