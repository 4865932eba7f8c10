package hostile

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
)

// jpegCases are the JPEG decoder's hostile inputs, each refused as corrupt
// (422) before it costs CPU or reaches the store: scan bombs of 12 MP (a
// thousand refinement scans, and 34 scans, under the scan cap but over the
// block budget), on the strip path and on a resize that image/jpeg would
// have decoded, and broken copies of jpeg on the strip path, which copies
// the entropy-coded data without decoding it.
func jpegCases(jpeg []byte) []Case {
	octets := ct("application/octet-stream")
	var cs []Case
	for _, b := range []struct {
		name string
		src  []byte
	}{
		{"1000 refinement scans over 12 MP", ScanBomb(4000, 3000, 1000)},
		{"34 scans over 12 MP", ScanBomb(4000, 3000, 32)},
	} {
		for _, path := range []string{"/upload", "/upload?w=3999"} {
			cs = append(cs, Case{Name: "scan bomb: " + b.name + " " + path, Path: path, Header: octets, Body: raw(b.src), Status: 422, Code: "corrupt_image"})
		}
	}
	broken := BrokenJPEGs(jpeg)
	for _, name := range slices.Sorted(maps.Keys(broken)) {
		cs = append(cs, Case{Name: "broken JPEG: " + name, Header: ct("image/jpeg"), Body: raw(broken[name]), Status: 422, Code: "corrupt_image"})
	}
	return cs
}

// ScanBomb is a w x h grey progressive JPEG made of one DC scan, one AC
// scan and refines AC refinement scans (Ah=1, Al=0). Every scan visits
// every block of the picture, yet codes it in a few bytes (EOB runs of
// 32767 blocks), so 12 MP and a thousand refinements fit in 50 KB and cost
// a decoder seconds of CPU. Repeating a refinement is bogus progression,
// which libjpeg only warns about: only a scan budget stops it.
func ScanBomb(w, h, refines int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, body ...byte) {
		b.Write([]byte{0xFF, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(body)+2))
		b.Write(body)
	}
	b.Write([]byte{0xFF, 0xD8})
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)...) // DQT 0: all ones
	seg(0xC2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)
	one := func(class byte, sym byte) { // a table with a single 1-bit code "0"
		body := append([]byte{class << 4, 1}, make([]byte, 15)...)
		seg(0xC4, append(body, sym)...)
	}
	one(0, 0)    // DC: difference category 0
	one(1, 0xE0) // AC: EOB14, a run of 2^14 + 14 bits more blocks
	blocks := ((w + 7) / 8) * ((h + 7) / 8)

	// DC scan: one "0" bit per block, padded with ones.
	seg(0xDA, 1, 1, 0x00, 0, 0, 0x00)
	n := (blocks + 7) / 8
	dc := make([]byte, n)
	if r := blocks % 8; r != 0 {
		dc[n-1] = 0xFF >> r
	}
	b.Write(dc)

	// AC scans: EOB runs of 32767 blocks until every block is covered.
	runs := bitWriter{}
	for left := blocks; left > 0; left -= 32767 {
		runs.put(0, 1)       // EOB14
		runs.put(0x3FFF, 14) // + 16383 = 32767 blocks
	}
	acData := runs.bytes()
	seg(0xDA, 1, 1, 0x00, 1, 63, 0x01) // first: Ss=1 Se=63 Ah=0 Al=1
	b.Write(acData)
	for i := 0; i < refines; i++ {
		seg(0xDA, 1, 1, 0x00, 1, 63, 0x10) // refinement: Ah=1 Al=0
		b.Write(acData)
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// bitWriter packs entropy-coded bits, stuffing a zero after each 0xFF and
// padding the last byte with ones.
type bitWriter struct {
	out  []byte
	acc  uint32
	bits uint
}

func (w *bitWriter) put(v uint32, n uint) {
	w.acc = w.acc<<n | v&(1<<n-1)
	w.bits += n
	for w.bits >= 8 {
		c := byte(w.acc >> (w.bits - 8))
		w.out = append(w.out, c)
		if c == 0xFF {
			w.out = append(w.out, 0)
		}
		w.bits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.bits > 0 {
		w.put(1<<(8-w.bits)-1, 8-w.bits)
	}
	return w.out
}

// BrokenJPEGs are structurally broken copies of a real baseline JPEG that
// a decoder refuses, and that the lossless metadata strip (which copies
// the entropy-coded data without decoding it) must refuse too rather than
// store: the scan cut short and closed with an EOI, a second frame header,
// and a Huffman table whose code lengths over-subscribe the code space.
func BrokenJPEGs(jpeg []byte) map[string][]byte {
	out := map[string][]byte{}
	sos := bytes.Index(jpeg, []byte{0xFF, 0xDA})
	if sos < 0 {
		return out
	}
	// truncated data followed by EOI: two thirds of the scan, then FF D9
	cut := sos + (len(jpeg)-sos)*2/3
	out["truncated scan + EOI"] = append(bytes.Clone(jpeg[:cut]), 0xFF, 0xD9)

	// two SOF markers: the frame header repeated before the scan
	if sof := bytes.Index(jpeg, []byte{0xFF, 0xC0}); sof >= 0 {
		n := int(binary.BigEndian.Uint16(jpeg[sof+2:]))
		frame := jpeg[sof : sof+2+n]
		out["two SOF markers"] = append(append(bytes.Clone(jpeg[:sos]), frame...), jpeg[sos:]...)
	}

	// bad DHT: a table claiming three 1-bit codes
	bad := []byte{0xFF, 0xC4, 0, 2 + 17 + 3, 0x00, 3}
	bad = append(bad, make([]byte, 15)...)
	bad = append(bad, 0, 1, 2)
	out["bad DHT"] = append(append(bytes.Clone(jpeg[:sos]), bad...), jpeg[sos:]...)
	return out
}
