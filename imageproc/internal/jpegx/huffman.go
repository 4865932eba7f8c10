package jpegx

import (
	"encoding/binary"
	"fmt"
)

const lutBits = 11

// huffTable decodes one Huffman table: codes up to lutBits long through a
// lookup table, longer ones through the canonical maxcode walk.
type huffTable struct {
	lut [1 << lutBits]uint16 // length<<8 | symbol; 0 = longer code
	// fastAC decodes a whole AC coefficient whose code and magnitude bits
	// fit in lutBits: value<<8 | run<<4 | bits used; 0 = take the slow path.
	fastAC  [1 << lutBits]int16
	maxcode [18]int32 // largest code of each length, -1 if none
	valptr  [17]int32 // index in vals of the first code of each length
	mincode [17]int32
	vals    [256]uint8
}

func (d *decoder) readDHT() error {
	p, err := d.segment()
	if err != nil {
		return err
	}
	return eachDHT(p, func(class, id byte, counts [17]int, vals []byte) error {
		t, err := buildHuff(counts, vals)
		d.huff[class][id] = t
		return err
	})
}

// eachDHT calls fn for every table of a DHT segment's payload p, whose
// class, id and code counts it has checked.
func eachDHT(p []byte, fn func(class, id byte, counts [17]int, vals []byte) error) error {
	for len(p) > 0 {
		if len(p) < 17 {
			return fmt.Errorf("%w: short DHT", ErrFormat)
		}
		class, id := p[0]>>4, p[0]&15
		if class > 1 || id > 3 {
			return fmt.Errorf("%w: Huffman table class %d id %d", ErrFormat, class, id)
		}
		var counts [17]int
		total := 0
		for i := 1; i <= 16; i++ {
			counts[i] = int(p[i])
			total += counts[i]
		}
		if total == 0 || total > 256 || len(p) < 17+total {
			return fmt.Errorf("%w: Huffman table with %d codes", ErrFormat, total)
		}
		if err := fn(class, id, counts, p[17:17+total]); err != nil {
			return err
		}
		p = p[17+total:]
	}
	return nil
}

func buildHuff(counts [17]int, vals []byte) (*huffTable, error) {
	t := &huffTable{}
	copy(t.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		t.valptr[l] = k
		t.mincode[l] = code
		if int(code)+counts[l] > 1<<l { // over-subscribed
			return nil, fmt.Errorf("%w: invalid Huffman code lengths", ErrFormat)
		}
		if counts[l] == 0 {
			t.maxcode[l] = -1
		} else {
			for i := 0; i < counts[l]; i++ {
				if l <= lutBits {
					// every lutBits-wide prefix starting with this code
					shift := uint(lutBits - l)
					base := int(code) << shift
					for j := 0; j < 1<<shift; j++ {
						t.lut[base+j] = uint16(l)<<8 | uint16(vals[k])
					}
				}
				code++
				k++
			}
			t.maxcode[l] = code - 1
		}
		code <<= 1
	}
	t.maxcode[17] = 1 << 30 // sentinel
	for i, v := range t.lut {
		l, rs := int(v>>8), int(v&0xFF)
		run, size := rs>>4, rs&15
		if v == 0 || size == 0 || l+size > lutBits {
			continue
		}
		bits := int32(i>>(lutBits-l-size)) & (1<<size - 1)
		if bits < 1<<(size-1) {
			bits += -1<<size + 1
		}
		if bits >= -128 && bits <= 127 {
			t.fastAC[i] = int16(bits<<8) | int16(run<<4|(l+size))
		}
	}
	return t, nil
}

// bitReader reads entropy-coded bits, removing stuffed zero bytes. At a
// marker it stops consuming and feeds zero bits (the last bits of a scan
// may be padding); reading far past a marker, or past the end, is an error.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // next bit is bit 63
	n      uint   // valid bits in acc
	marker bool   // a marker was reached
	zeros  int    // zero bytes fed after the marker or the end
	err    error
}

func (br *bitReader) fill() {
	// Fast path: the next eight bytes hold no 0xFF (so neither stuffing
	// nor a marker): take as many whole bytes as fit at once, leaving what
	// the byte loop below would.
	if !br.marker && br.pos+8 <= len(br.data) {
		x := binary.BigEndian.Uint64(br.data[br.pos:])
		if v := ^x; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
			nb := (64 - br.n) / 8
			br.acc |= x >> (64 - 8*nb) << (64 - br.n - 8*nb)
			br.pos += int(nb)
			br.n += 8 * nb
			return
		}
	}
	for br.n <= 56 {
		var b byte
		if !br.marker && br.pos < len(br.data) {
			b = br.data[br.pos]
			if b == 0xFF {
				if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0x00 {
					br.pos += 2
				} else {
					br.marker = true
					b = 0
				}
			} else {
				br.pos++
			}
		} else {
			br.marker = true
		}
		if br.marker {
			br.zeros++
			if br.zeros > 64 && br.err == nil { // well past the data: truncated
				br.err = fmt.Errorf("%w: entropy data ends early", ErrFormat)
			}
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// overrun says whether decoding used bits past the end of the entropy-coded
// segment: the zero bytes fill feeds there only pad the look-ahead, and an
// encoder pads its last byte with its own bits. Truncated data followed by
// a marker (an EOI glued onto a cut upload) decodes into grey blocks
// otherwise; image/jpeg refuses it too.
func (br *bitReader) overrun() bool { return br.zeros*8 > int(br.n) }

// end is the outcome of a finished scan or restart interval.
func (br *bitReader) end() error {
	if br.err == nil && br.overrun() {
		br.err = fmt.Errorf("%w: entropy data ends early", ErrFormat)
	}
	return br.err
}

// decodeHuff reads one symbol. The caller keeps at least 16 bits buffered.
func (br *bitReader) decodeHuff(t *huffTable) (uint8, error) {
	if br.n < 16 {
		br.fill()
	}
	if v := t.lut[br.acc>>(64-lutBits)]; v != 0 {
		l := uint(v >> 8)
		br.acc <<= l
		br.n -= l
		return uint8(v), nil
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		code := int32(br.acc >> (64 - l))
		if code <= t.maxcode[l] {
			br.acc <<= l
			br.n -= l
			idx := t.valptr[l] + code - t.mincode[l]
			if idx < 0 || idx > 255 {
				break
			}
			return t.vals[idx], nil
		}
	}
	if br.err == nil {
		br.err = fmt.Errorf("%w: bad Huffman code", ErrFormat)
	}
	return 0, br.err
}

// receiveExtend reads s bits as a signed coefficient (JPEG's EXTEND).
// It repeats receive's body rather than call it: neither inlines, and this
// runs once per coefficient.
func (br *bitReader) receiveExtend(s uint) int32 {
	if br.n < s {
		br.fill()
	}
	v := int32(br.acc >> (64 - s))
	br.acc <<= s
	br.n -= s
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

func (br *bitReader) skip(s uint) {
	if br.n < s {
		br.fill()
	}
	br.acc <<= s
	br.n -= s
}

// bit reads one bit.
func (br *bitReader) bit() bool {
	if br.n < 1 {
		br.fill()
	}
	b := br.acc>>63 != 0
	br.acc <<= 1
	br.n--
	return b
}

// receive reads s raw bits (s <= 16).
func (br *bitReader) receive(s uint) uint32 {
	if br.n < s {
		br.fill()
	}
	v := uint32(br.acc >> (64 - s))
	br.acc <<= s
	br.n -= s
	return v
}
