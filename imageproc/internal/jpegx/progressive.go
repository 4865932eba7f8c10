package jpegx

import (
	"bytes"
	"fmt"
)

// Progressive JPEG (ITU T.81 G.1.2): the coefficients of every block
// arrive over several scans (DC first, then bands of AC, then refinement
// bits), so they are kept for the whole image and transformed once, at
// EOI, at the requested scale.

// geometry is the block layout shared by all scans.
type geometry struct {
	hmax, vmax   int
	mcusX, mcusY int
}

func (d *decoder) geometry() geometry {
	g := geometry{hmax: 1, vmax: 1}
	for _, c := range d.comps {
		g.hmax, g.vmax = max(g.hmax, c.h), max(g.vmax, c.v)
	}
	g.mcusX = (d.width + 8*g.hmax - 1) / (8 * g.hmax)
	g.mcusY = (d.height + 8*g.vmax - 1) / (8 * g.vmax)
	return g
}

// blocksPerLine is the padded number of blocks in one row of component c.
func (g geometry) blocksPerLine(c *component) int { return g.mcusX * c.h }

// progressiveScan decodes one scan's contribution into d.coefs.
func (d *decoder) progressiveScan(p []byte) error {
	ns := int(p[0])
	g := d.geometry()
	if d.coefs == nil {
		total := 0
		for i := range d.comps {
			c := &d.comps[i]
			total += g.mcusX * c.h * g.mcusY * c.v * 64
			if total > maxSamples {
				return fmt.Errorf("%w: %dx%d is too large to decode", ErrFormat, d.width, d.height)
			}
		}
		d.coefs = make([][]int16, len(d.comps))
		for i := range d.comps {
			c := &d.comps[i]
			d.coefs[i] = make([]int16, g.mcusX*c.h*g.mcusY*c.v*64)
		}
	}
	scan := make([]int, ns) // component indexes
	for i := 0; i < ns; i++ {
		id, tables := p[1+2*i], p[2+2*i]
		ci := -1
		for j := range d.comps {
			if d.comps[j].id == id {
				ci = j
			}
		}
		if ci < 0 {
			return fmt.Errorf("%w: scan names an unknown component", ErrFormat)
		}
		td, ta := tables>>4, tables&15
		if td > 3 || ta > 3 {
			return fmt.Errorf("%w: Huffman table selector", ErrFormat)
		}
		c := &d.comps[ci]
		c.dc, c.ac = d.huff[0][td], d.huff[1][ta]
		scan[i] = ci
	}
	ss, se := int(p[1+2*ns]), int(p[2+2*ns])
	ah, al := uint(p[3+2*ns]>>4), uint(p[3+2*ns]&15)
	dcScan := ss == 0
	// Check has applied checkProgression to every scan
	for _, ci := range scan {
		c := &d.comps[ci]
		if dcScan && ah == 0 && c.dc == nil || !dcScan && c.ac == nil {
			return fmt.Errorf("%w: scan uses a missing Huffman table", ErrFormat)
		}
		c.pred = 0
	}
	s := progScan{d: d, ss: ss, se: se, ah: ah, al: al}
	d.br, d.rst = bitReader{data: d.data, pos: d.pos}, 0
	var err error
	if ns == 1 {
		err = s.nonInterleaved(g, scan[0])
	} else {
		err = s.interleaved(g, scan)
	}
	if err != nil {
		return err
	}
	if err := d.br.end(); err != nil {
		return err
	}
	d.pos = d.skipEntropy(d.br.pos)
	return nil
}

// skipEntropy returns the offset of the next marker that is not a restart.
func (d *decoder) skipEntropy(pos int) int {
	for pos+1 < len(d.data) {
		i := bytes.IndexByte(d.data[pos:len(d.data)-1], 0xFF) // (vectorised)
		if i < 0 {
			break
		}
		pos += i
		if m := d.data[pos+1]; m != 0x00 && m != 0xFF && (m < 0xD0 || m > 0xD7) {
			return pos
		}
		pos++
	}
	return len(d.data)
}

type progScan struct {
	d      *decoder
	ss, se int
	ah, al uint
	eobrun int
	mcus   int
}

// restart handles the restart interval before the next MCU.
func (s *progScan) restart() error {
	d := s.d
	if d.restart > 0 && s.mcus > 0 && s.mcus%d.restart == 0 {
		if err := d.restartMarker(); err != nil {
			return err
		}
		s.eobrun = 0
	}
	s.mcus++
	return nil
}

func (s *progScan) interleaved(g geometry, scan []int) error {
	for my := 0; my < g.mcusY; my++ {
		if err := s.d.ctx.Err(); err != nil {
			return err
		}
		for mx := 0; mx < g.mcusX; mx++ {
			if err := s.restart(); err != nil {
				return err
			}
			for _, ci := range scan {
				c := &s.d.comps[ci]
				for by := 0; by < c.v; by++ {
					for bx := 0; bx < c.h; bx++ {
						i := ((my*c.v+by)*g.blocksPerLine(c) + mx*c.h + bx) * 64
						if err := s.block(c, s.d.coefs[ci][i:i+64]); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// nonInterleaved walks one component's blocks that hold picture (not the
// MCU padding), one block per restart unit.
func (s *progScan) nonInterleaved(g geometry, ci int) error {
	c := &s.d.comps[ci]
	w := (s.d.width*c.h + g.hmax - 1) / g.hmax
	h := (s.d.height*c.v + g.vmax - 1) / g.vmax
	bw, bh := (w+7)/8, (h+7)/8
	for by := 0; by < bh; by++ {
		if err := s.d.ctx.Err(); err != nil {
			return err
		}
		for bx := 0; bx < bw; bx++ {
			if err := s.restart(); err != nil {
				return err
			}
			i := (by*g.blocksPerLine(c) + bx) * 64
			if err := s.block(c, s.d.coefs[ci][i:i+64]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *progScan) block(c *component, coef []int16) error {
	br := &s.d.br
	if br.n < 32 {
		br.fill()
	}
	switch {
	case s.ss == 0 && s.ah == 0: // DC first
		t, err := br.decodeHuff(c.dc)
		if err != nil {
			return err
		}
		if t > 11 {
			return fmt.Errorf("%w: DC magnitude %d", ErrFormat, t)
		}
		if t > 0 {
			c.pred += br.receiveExtend(uint(t))
		}
		coef[0] = int16(c.pred << s.al)
	case s.ss == 0: // DC refinement: one bit
		if br.bit() {
			coef[0] |= 1 << s.al
		}
	case s.ah == 0:
		return s.acFirst(c, coef)
	default:
		return s.acRefine(c, coef)
	}
	return br.err
}

func (s *progScan) acFirst(c *component, coef []int16) error {
	if s.eobrun > 0 {
		s.eobrun--
		return nil
	}
	br := &s.d.br
	for k := s.ss; k <= s.se; k++ {
		if br.n < 32 {
			br.fill()
		}
		rs, err := br.decodeHuff(c.ac)
		if err != nil {
			return err
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz == 0 {
			if r < 15 { // EOBn: this block and 2^r-1+bits more end here
				s.eobrun = 1<<r - 1
				if r > 0 {
					s.eobrun += int(br.receive(uint(r)))
				}
				break
			}
			k += 15 // ZRL: sixteen zeros
			continue
		}
		k += r
		if k > 63 {
			return fmt.Errorf("%w: AC run past the block", ErrFormat)
		}
		coef[k] = int16(br.receiveExtend(sz) << s.al)
	}
	return br.err
}

// acRefine adds one bit of precision to the band: a correction bit for
// every coefficient already non-zero, and newly non-zero ones (+-1 << Al)
// placed after the given run of still-zero coefficients.
func (s *progScan) acRefine(c *component, coef []int16) error {
	br := &s.d.br
	p1, m1 := int16(1)<<s.al, int16(-1)<<s.al
	k := s.ss
	if s.eobrun == 0 {
		for ; k <= s.se; k++ {
			if br.n < 32 {
				br.fill()
			}
			rs, err := br.decodeHuff(c.ac)
			if err != nil {
				return err
			}
			r, sz := int(rs>>4), rs&15
			var val int16
			if sz != 0 {
				if sz != 1 {
					return fmt.Errorf("%w: refinement magnitude %d", ErrFormat, sz)
				}
				val = m1
				if br.bit() {
					val = p1
				}
			} else if r != 15 {
				s.eobrun = 1 << r
				if r > 0 {
					s.eobrun += int(br.receive(uint(r)))
				}
				break
			}
			for ; k <= s.se; k++ {
				if coef[k] != 0 {
					s.refine(&coef[k], p1, m1)
					continue
				}
				if r == 0 {
					if val != 0 {
						coef[k] = val
					}
					break
				}
				r--
			}
		}
	}
	if s.eobrun > 0 {
		for ; k <= s.se; k++ {
			if coef[k] != 0 {
				s.refine(&coef[k], p1, m1)
			}
		}
		s.eobrun--
	}
	return br.err
}

func (s *progScan) refine(v *int16, p1, m1 int16) {
	if s.d.br.bit() && *v&p1 == 0 {
		if *v >= 0 {
			*v += p1
		} else {
			*v += m1
		}
	}
}

// finishProgressive turns the collected coefficients into planes at the
// decoder's block size.
func (d *decoder) finishProgressive() {
	g := d.geometry()
	var blk [64]int32
	for ci := range d.comps {
		c := &d.comps[ci]
		n := c.n
		idct, need := idctFor(n), needMask(n)
		q := d.quant[c.tq]
		if q == nil {
			q = new([64]int32) // no table: a blank component rather than a crash
		}
		bpl, rows := g.blocksPerLine(c), g.mcusY*c.v
		c.stride = bpl * n
		c.plane = make([]uint8, c.stride*rows*n)
		coefs := d.coefs[ci]
		for by := 0; by < rows; by++ {
			for bx := 0; bx < bpl; bx++ {
				cb := coefs[(by*bpl+bx)*64 : (by*bpl+bx)*64+64]
				blk = [64]int32{}
				blk[0] = int32(cb[0]) * q[0]
				acs := false
				for k := 1; k < 64; k++ {
					if cb[k] != 0 && need[k] {
						blk[zigzag[k]] = int32(cb[k]) * q[k]
						acs = true
					}
				}
				dst := c.plane[by*n*c.stride+bx*n:]
				if acs {
					idct(&blk, dst, c.stride)
				} else {
					fillDC(blk[0], dst, c.stride, n)
				}
			}
		}
	}
	d.coefs = nil
}
