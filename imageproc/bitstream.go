package imageproc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The size headers of the coded bitstreams inside HEIC and AVIF: the AV1
// sequence header (AV1 spec 5.5) and the HEVC sequence parameter set
// (H.265 7.3.2.2). Only the fields up to the picture size are read.

// bitReader reads big-endian bit fields; past the end it records an error.
type bitReader struct {
	b   []byte
	pos int // in bits
	err error
}

func (r *bitReader) bit() uint32 {
	if r.pos >= len(r.b)*8 {
		r.err = errTruncated
		return 0
	}
	v := r.b[r.pos/8] >> (7 - r.pos%8) & 1
	r.pos++
	return uint32(v)
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for i := 0; i < n; i++ {
		v = v<<1 | r.bit()
	}
	return v
}

func (r *bitReader) skip(n int) {
	if r.pos+n > len(r.b)*8 {
		r.err = errTruncated
	}
	r.pos += n
}

// ue is an unsigned Exp-Golomb code (HEVC ue(v)).
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bit() == 0 && r.err == nil {
		zeros++
		if zeros > 31 {
			r.err = errors.New("an Exp-Golomb code over 32 bits")
			return 0
		}
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

// uvlc is AV1's variable length code.
func (r *bitReader) uvlc() uint32 {
	zeros := 0
	for r.bit() == 0 && r.err == nil {
		zeros++
	}
	if zeros >= 32 {
		return 1<<32 - 1
	}
	return 1<<zeros - 1 + r.bits(zeros)
}

// av1SequenceSize reads max_frame_width and max_frame_height from a
// sequence header OBU's payload: every frame of the sequence is at most
// that large.
func av1SequenceSize(p []byte) (w, h int, err error) {
	r := &bitReader{b: p}
	r.skip(3)         // seq_profile
	r.skip(1)         // still_picture
	if r.bit() == 1 { // reduced_still_picture_header
		r.skip(5)
	} else {
		var delayLen int
		decoderModel := false
		if r.bit() == 1 { // timing_info_present_flag
			r.skip(64)
			if r.bit() == 1 { // equal_picture_interval
				r.uvlc()
			}
			if r.bit() == 1 { // decoder_model_info_present_flag
				decoderModel = true
				delayLen = int(r.bits(5)) + 1
				r.skip(32 + 5 + 5)
			}
		}
		initialDelay := r.bit() == 1
		ops := int(r.bits(5)) + 1
		for i := 0; i < ops && r.err == nil; i++ {
			r.skip(12) // operating_point_idc
			if r.bits(5) > 7 {
				r.skip(1) // seq_tier
			}
			if decoderModel && r.bit() == 1 {
				r.skip(2*delayLen + 1)
			}
			if initialDelay && r.bit() == 1 {
				r.skip(4)
			}
		}
	}
	wb, hb := int(r.bits(4))+1, int(r.bits(4))+1
	w, h = int(r.bits(wb))+1, int(r.bits(hb))+1
	if r.err != nil {
		return 0, 0, fmt.Errorf("AV1 sequence header: %v", r.err)
	}
	return w, h, nil
}

// av1OBUs calls fn with the size of every sequence header OBU in data, a
// run of OBUs (low overhead bitstream format).
func av1OBUs(data []byte, fn func(w, h int)) error {
	for len(data) > 0 {
		hdr := data[0]
		if hdr&0x80 != 0 {
			return errors.New("AV1: forbidden bit set")
		}
		typ := hdr >> 3 & 15
		n := 1
		if hdr&0x04 != 0 {
			n++ // extension header
		}
		if n > len(data) {
			return errTruncated
		}
		size := uint64(len(data) - n)
		if hdr&0x02 != 0 { // obu_has_size_field: leb128
			size = 0
			for i := 0; ; i++ {
				if i == 8 || n >= len(data) {
					return errors.New("AV1: bad OBU size")
				}
				c := data[n]
				n++
				size |= uint64(c&0x7f) << (7 * i)
				if c&0x80 == 0 {
					break
				}
			}
		}
		if size > uint64(len(data)-n) {
			return errors.New("AV1: an OBU runs past its item")
		}
		if typ == 1 { // OBU_SEQUENCE_HEADER
			w, h, err := av1SequenceSize(data[n : n+int(size)])
			if err != nil {
				return err
			}
			fn(w, h)
		}
		data = data[n+int(size):]
	}
	return nil
}

// av1ConfigSizes reads the sequence headers in an av1C box's configOBUs.
func av1ConfigSizes(av1C []byte, fn func(w, h int)) error {
	if len(av1C) < 4 || av1C[0] != 0x81 {
		return errors.New("not an av1C version 1 box")
	}
	return av1OBUs(av1C[4:], fn)
}

// av1ItemSizes reads the sequence headers in an AV1 item's data, the ones
// the decoder uses.
func av1ItemSizes(_, data []byte, fn func(w, h int)) error {
	return av1OBUs(data, fn)
}

// hevcSPSSize reads the output (cropped) size of an SPS NAL unit. The
// decoder allocates the coded size, so a conformance window that crops
// more than one coding tree block is refused too.
func hevcSPSSize(nal []byte) (w, h int, err error) {
	rbsp := make([]byte, 0, 256) // the size fields are in the first few dozen bytes
	zeros := 0
	for i := 2; i < len(nal) && len(rbsp) < 256; i++ { // drop the NAL header and emulation prevention
		if zeros >= 2 && nal[i] == 3 {
			zeros = 0
			continue
		}
		if nal[i] == 0 {
			zeros++
		} else {
			zeros = 0
		}
		rbsp = append(rbsp, nal[i])
	}
	r := &bitReader{b: rbsp}
	r.skip(4) // sps_video_parameter_set_id
	subLayers := int(r.bits(3))
	r.skip(1)
	r.skip(96) // general profile, tier, level
	profile := make([]bool, subLayers)
	level := make([]bool, subLayers)
	for i := 0; i < subLayers; i++ {
		profile[i], level[i] = r.bit() == 1, r.bit() == 1
	}
	if subLayers > 0 {
		r.skip(2 * (8 - subLayers))
	}
	for i := 0; i < subLayers; i++ {
		if profile[i] {
			r.skip(88)
		}
		if level[i] {
			r.skip(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	chroma := r.ue()
	if chroma > 3 {
		return 0, 0, fmt.Errorf("HEVC SPS: chroma_format_idc %d", chroma)
	}
	if chroma == 3 && r.bit() == 1 { // separate_colour_plane_flag
		chroma = 0
	}
	cw, ch := int(r.ue()), int(r.ue())
	var left, right, top, bottom int
	if r.bit() == 1 { // conformance_window_flag
		left, right, top, bottom = int(r.ue()), int(r.ue()), int(r.ue()), int(r.ue())
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("HEVC SPS: %v", r.err)
	}
	sx, sy := 1, 1
	if chroma == 1 || chroma == 2 {
		sx = 2
	}
	if chroma == 1 {
		sy = 2
	}
	w, h = cw-sx*(left+right), ch-sy*(top+bottom)
	if w <= 0 || h <= 0 || cw-w >= 64 || ch-h >= 64 {
		return 0, 0, fmt.Errorf("HEVC SPS: coded %dx%d cropped to %dx%d", cw, ch, w, h)
	}
	return w, h, nil
}

const hevcSPS = 33

// hevcConfigSizes reads the SPS NAL units of an hvcC box.
func hevcConfigSizes(hvcC []byte, fn func(w, h int)) error {
	if len(hvcC) < 23 {
		return errors.New("short hvcC")
	}
	r := &boxReader{b: hvcC[22:]}
	arrays := r.u8()
	for a := 0; a < arrays && r.err == nil; a++ {
		typ := r.u8() & 0x3f
		n := r.u16()
		for i := 0; i < n && r.err == nil; i++ {
			nal := r.take(r.u16())
			if r.err == nil && typ == hevcSPS && len(nal) >= 2 && nal[0]>>1&0x3f == hevcSPS {
				w, h, err := hevcSPSSize(nal)
				if err != nil {
					return err
				}
				fn(w, h)
			}
		}
	}
	if r.err != nil {
		return errors.New("hvcC runs past its box")
	}
	return nil
}

// hevcItemSizes reads the SPS NAL units in an HEVC item's data (length
// prefixed, as hvcC says), which the decoder reads after those of hvcC.
func hevcItemSizes(hvcC, data []byte, fn func(w, h int)) error {
	if len(hvcC) < 23 {
		return errors.New("short hvcC")
	}
	ls := int(hvcC[21]&3) + 1
	if ls == 3 {
		return errors.New("hvcC: NAL length size 3")
	}
	for len(data) > 0 {
		if len(data) < ls {
			return errTruncated
		}
		var n uint64
		for _, c := range data[:ls] {
			n = n<<8 | uint64(c)
		}
		data = data[ls:]
		if n > uint64(len(data)) {
			return errors.New("HEVC: a NAL unit runs past its item")
		}
		nal := data[:n]
		if len(nal) >= 2 && nal[0]>>1&0x3f == hevcSPS {
			w, h, err := hevcSPSSize(nal)
			if err != nil {
				return err
			}
			fn(w, h)
		}
		data = data[n:]
	}
	return nil
}

// av1TrackSize checks the AV1 tracks of an AVIF sequence, which libavif
// decodes instead of the items when the file says it is one: every
// sample's sequence headers must agree with its sample entry. It returns
// the largest sample entry size; 0x0 when there are no tracks.
func av1TrackSize(src []byte) (w, h int, err error) {
	moov, ok := findBox(src, "moov")
	if !ok {
		return 0, 0, nil
	}
	read := 0
	for b := moov; len(b) >= 8; {
		typ, trak, rest, ok := nextBox(b)
		if !ok {
			return 0, 0, errors.New("a box runs past moov")
		}
		b = rest
		if typ != "trak" {
			continue
		}
		mdia, _ := findBox(trak, "mdia")
		minf, _ := findBox(mdia, "minf")
		stbl, ok := findBox(minf, "stbl")
		if !ok {
			continue
		}
		stsd, _ := findBox(stbl, "stsd")
		if len(stsd) < 8 {
			continue
		}
		typ, entry, _, ok := nextBox(stsd[8:])
		if !ok || typ != "av01" {
			continue // not a picture track libavif reads
		}
		if len(entry) < 78 {
			return 0, 0, errors.New("short av01 sample entry")
		}
		ew, eh := int(binary.BigEndian.Uint16(entry[24:26])), int(binary.BigEndian.Uint16(entry[26:28]))
		check := func(sw, sh int) {
			if err == nil && (sw != ew || sh != eh) {
				err = fmt.Errorf("AV1 track: the sample entry says %dx%d, the sequence header %dx%d", ew, eh, sw, sh)
			}
		}
		if av1C, ok := findBox(entry[78:], "av1C"); ok {
			if e := av1ConfigSizes(av1C, check); e != nil {
				return 0, 0, e
			}
		}
		e := trackSamples(stbl, func(off, n uint64) error {
			if off > uint64(len(src)) || n > uint64(len(src))-off {
				return errors.New("AV1 track: a sample runs past the end of the file")
			}
			if read += int(n); read > 2*len(src) {
				return errors.New("AV1 track: the samples overlap too much")
			}
			return av1OBUs(src[off:off+n], check)
		})
		if e != nil {
			return 0, 0, e
		}
		if err != nil {
			return 0, 0, err
		}
		// libavif sizes its picture by the track header's width and
		// height (16.16 fixed point), whatever the frames are: they are
		// a claim of their own that must reach the limits.
		tw, th, e := tkhdSize(trak)
		if e != nil {
			return 0, 0, e
		}
		ew, eh = max(ew, tw), max(eh, th)
		if int64(ew)*int64(eh) > int64(w)*int64(h) {
			w, h = ew, eh
		}
	}
	return w, h, nil
}

// tkhdSize is a track header's width and height in whole pixels; 0x0
// when the track has none.
func tkhdSize(trak []byte) (w, h int, err error) {
	tkhd, ok := findBox(trak, "tkhd")
	if !ok {
		return 0, 0, nil
	}
	at := 76 // version 0: 32-bit times and duration
	if len(tkhd) > 0 && tkhd[0] == 1 {
		at = 88
	}
	if len(tkhd) < at+8 {
		return 0, 0, errors.New("short tkhd")
	}
	return int(binary.BigEndian.Uint32(tkhd[at:]) >> 16), int(binary.BigEndian.Uint32(tkhd[at+4:]) >> 16), nil
}

// trackSamples calls fn with the file offset and size of every sample of
// a track's sample table (stsz, stsc, stco/co64).
func trackSamples(stbl []byte, fn func(off, n uint64) error) error {
	stsz, ok1 := findBox(stbl, "stsz")
	stsc, ok2 := findBox(stbl, "stsc")
	stco, ok3 := findBox(stbl, "stco")
	width := 4
	if !ok3 {
		stco, ok3 = findBox(stbl, "co64")
		width = 8
	}
	if !ok1 || !ok2 || !ok3 {
		return errors.New("AV1 track: no sample table")
	}
	sz := &boxReader{b: stsz}
	sz.skip(4)
	fixed, count := sz.sized(4), sz.uint(4)
	sc := &boxReader{b: stsc}
	sc.skip(4)
	runs := sc.uint(4)
	co := &boxReader{b: stco}
	co.skip(4)
	chunks := co.uint(4)
	if sz.err != nil || sc.err != nil || co.err != nil || runs > len(stsc)/12 || chunks > len(stco)/width {
		return errors.New("AV1 track: short sample table")
	}
	type run struct{ first, per int }
	var rs []run
	for i := 0; i < runs; i++ {
		rs = append(rs, run{sc.uint(4), sc.uint(4)})
		sc.skip(4)
	}
	sample, ri, per := 0, 0, 0
	for c := 1; c <= chunks && sample < count; c++ {
		off := co.sized(width)
		for ri < len(rs) && rs[ri].first <= c { // runs are in chunk order
			per = rs[ri].per
			ri++
		}
		for i := 0; i < per && sample < count; i++ {
			n := fixed
			if fixed == 0 {
				n = sz.sized(4)
			}
			if sz.err != nil {
				return errors.New("AV1 track: short stsz")
			}
			if err := fn(off, n); err != nil {
				return err
			}
			off += n
			sample++
		}
	}
	return nil
}
