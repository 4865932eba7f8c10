package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// HEIC and AVIF files say their size twice: in the container (the 'ispe'
// property of each item, a grid's output size, a track's sample entry) and
// in the coded bitstream the decoder reads (the HEVC SPS, the AV1 sequence
// header). The decoder allocates for the bitstream, so that is the size
// that must reach the limits and the memory admission. heifCheckedSize reads
// both for every item that makes pixels and refuses any disagreement.
// Everything here is linear in the file size and allocates nothing in
// proportion to the sizes the file declares.

// heifMaxItems bounds the item count (an iPhone grid has ~50 tiles; a
// 200 MP panorama in 256 px tiles some 3000).
const heifMaxItems = 1 << 14

type heifItem struct {
	typ     string
	props   []int // 0-based indexes into ipco
	method  int   // iloc construction method: 0 file, 1 idat
	extents [][2]uint64
	dimg    []uint32 // derived image inputs (grid tiles, overlay layers)
	located bool
}

type heifMeta struct {
	src     []byte
	primary uint32          // pitm
	alpha   map[uint32]bool // items with an alpha plane (an auxl item of an alpha auxC type, or prem)
	items   map[uint32]*heifItem
	order   []uint32
	ipco    []heifBox
	idat    []byte
	read    int // item bytes examined, bounded by the file size
}

type heifBox struct {
	typ  string
	body []byte
}

// heifCheckedSize returns the largest image any item of src decodes to,
// after checking every container claim against the bitstream.
func heifCheckedSize(src []byte) (w, h int, err error) {
	m, err := heifMetaOf(src)
	if err != nil {
		return 0, 0, err
	}
	sizes := map[uint32][2]int{}
	var size func(id uint32, depth int) ([2]int, error)
	size = func(id uint32, depth int) ([2]int, error) {
		if s, ok := sizes[id]; ok {
			return s, nil
		}
		it := m.items[id]
		if it == nil || depth > 4 {
			return [2]int{}, fmt.Errorf("item %d is missing or nested too deep", id)
		}
		var s [2]int
		var err error
		switch it.typ {
		case "av01":
			s, err = m.codedSize(it, av1ConfigSizes, av1ItemSizes)
		case "hvc1":
			s, err = m.codedSize(it, hevcConfigSizes, hevcItemSizes)
		case "grid":
			s, err = m.gridSize(it, func(t uint32) ([2]int, error) { return size(t, depth+1) })
		case "iovl":
			s, err = m.overlaySize(it)
		case "iden":
			if len(it.dimg) != 1 {
				return [2]int{}, fmt.Errorf("iden item %d has %d inputs", id, len(it.dimg))
			}
			s, err = size(it.dimg[0], depth+1)
		default:
			return [2]int{}, nil
		}
		if err != nil {
			return [2]int{}, fmt.Errorf("%s item %d: %v", it.typ, id, err)
		}
		if e, ok, err := m.ispe(it); err != nil {
			return [2]int{}, fmt.Errorf("%s item %d: %v", it.typ, id, err)
		} else if ok && e != s {
			return [2]int{}, fmt.Errorf("%s item %d: ispe says %dx%d, the %s %dx%d", it.typ, id, e[0], e[1], heifWhat(it.typ), s[0], s[1])
		}
		sizes[id] = s
		return s, nil
	}
	for _, id := range m.order {
		s, err := size(id, 0)
		if err != nil {
			return 0, 0, err
		}
		if int64(s[0])*int64(s[1]) > int64(w)*int64(h) {
			w, h = s[0], s[1]
		}
	}
	if f, _ := sniffISOBMFF(src); f == AVIF {
		tw, th, err := av1TrackSize(src)
		if err != nil {
			return 0, 0, err
		}
		if int64(tw)*int64(th) > int64(w)*int64(h) {
			w, h = tw, th
		}
	}
	if w == 0 || h == 0 {
		return 0, 0, errors.New("no image item")
	}
	return w, h, nil
}

func heifWhat(typ string) string {
	switch typ {
	case "av01":
		return "AV1 sequence header"
	case "hvc1":
		return "HEVC SPS"
	}
	return "item data"
}

// heifMetaOf parses the item table of src's meta box.
func heifMetaOf(src []byte) (*heifMeta, error) {
	meta, ok := findBox(src, "meta")
	if !ok || len(meta) < 4 {
		return nil, errors.New("no meta box")
	}
	return parseHEIFMeta(src, meta[4:])
}

// parseHEIFMeta reads the item table of a meta box body (after its
// version and flags).
func parseHEIFMeta(src, meta []byte) (*heifMeta, error) {
	m := &heifMeta{src: src, items: map[uint32]*heifItem{}, alpha: map[uint32]bool{}}
	item := func(id uint32) *heifItem {
		it := m.items[id]
		if it == nil {
			it = &heifItem{}
			m.items[id] = it
		}
		return it
	}
	boxes := map[string][]byte{}
	for b := meta; len(b) >= 8; {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			return nil, errors.New("a box in meta runs past its end")
		}
		if _, dup := boxes[typ]; dup && (typ == "iinf" || typ == "iloc" || typ == "iprp" || typ == "iref" || typ == "idat") {
			return nil, fmt.Errorf("two %s boxes", typ)
		}
		boxes[typ] = body
		b = rest
	}
	m.idat = boxes["idat"]
	if b := boxes["pitm"]; len(b) >= 6 {
		r := &boxReader{b: b}
		v := r.u8()
		r.skip(3)
		m.primary = uint32(r.uint(map[bool]int{true: 2, false: 4}[v == 0]))
	}
	// iinf: the items and their types
	r := &boxReader{b: boxes["iinf"]}
	v := r.u8()
	r.skip(3)
	n := r.uint(map[bool]int{true: 2, false: 4}[v == 0])
	for b := r.rest(); len(b) >= 8 && r.err == nil; {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			return nil, errors.New("an infe box runs past iinf")
		}
		b = rest
		if typ != "infe" || len(body) < 4 || body[0] < 2 {
			continue
		}
		ir := &boxReader{b: body[4:]}
		id := ir.uint(map[bool]int{true: 2, false: 4}[body[0] == 2])
		ir.skip(2)
		t := ir.fourcc()
		if ir.err != nil {
			return nil, errors.New("short infe box")
		}
		if _, dup := m.items[uint32(id)]; !dup {
			m.order = append(m.order, uint32(id))
		}
		item(uint32(id)).typ = t
		if len(m.items) > heifMaxItems {
			return nil, errors.New("too many items")
		}
	}
	if r.err != nil || n == 0 {
		return nil, errors.New("no items")
	}
	// iloc: where each item's data is
	r = &boxReader{b: boxes["iloc"]}
	v = r.u8()
	r.skip(3)
	sizes := r.u16()
	offSize, lenSize, baseSize, idxSize := int(sizes>>12), int(sizes>>8&15), int(sizes>>4&15), int(sizes&15)
	if v == 0 {
		idxSize = 0
	}
	count := r.uint(map[bool]int{true: 4, false: 2}[v == 2])
	for i := 0; i < count && r.err == nil; i++ {
		id := uint32(r.uint(map[bool]int{true: 4, false: 2}[v == 2]))
		method := 0
		if v == 1 || v == 2 {
			method = r.u16() & 15
		}
		r.skip(2) // data reference index
		base := r.sized(baseSize)
		ne := r.u16()
		it := m.items[id]
		if it == nil {
			it = &heifItem{} // located but not listed: ignored
		}
		if it.located {
			return nil, fmt.Errorf("item %d is located twice", id)
		}
		it.located, it.method = true, method
		for e := 0; e < ne && r.err == nil; e++ {
			r.sized(idxSize)
			off, n := r.sized(offSize), r.sized(lenSize)
			it.extents = append(it.extents, [2]uint64{base + off, n})
		}
	}
	if r.err != nil {
		return nil, errors.New("short iloc box")
	}
	// iprp: the properties and which item has which
	iprp := boxes["iprp"]
	ipco, _ := findBox(iprp, "ipco")
	for b := ipco; len(b) >= 8; {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			return nil, errors.New("a property runs past ipco")
		}
		m.ipco = append(m.ipco, heifBox{typ, body})
		b = rest
	}
	for b := iprp; len(b) >= 8; {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			break
		}
		b = rest
		if typ != "ipma" {
			continue
		}
		r := &boxReader{b: body}
		v := r.u8()
		r.skip(2)
		flags := r.u8()
		n := r.uint(4)
		for i := 0; i < n && r.err == nil; i++ {
			id := uint32(r.uint(map[bool]int{true: 2, false: 4}[v < 1]))
			na := r.u8()
			it := m.items[id]
			for a := 0; a < na && r.err == nil; a++ {
				var idx int
				if flags&1 != 0 {
					idx = r.u16() & 0x7fff
				} else {
					idx = r.u8() & 0x7f
				}
				if it != nil && idx > 0 {
					it.props = append(it.props, idx-1)
				}
			}
		}
		if r.err != nil {
			return nil, errors.New("short ipma box")
		}
	}
	// iref: derived images' inputs
	if b, ok := boxes["iref"]; ok && len(b) >= 4 {
		v := b[0]
		for b := b[4:]; len(b) >= 8; {
			typ, body, rest, ok := nextBox(b)
			if !ok {
				return nil, errors.New("a reference runs past iref")
			}
			b = rest
			r := &boxReader{b: body}
			w := map[bool]int{true: 2, false: 4}[v == 0]
			from := uint32(r.uint(w))
			n := r.u16()
			var to []uint32
			for i := 0; i < n && r.err == nil; i++ {
				to = append(to, uint32(r.uint(w)))
			}
			if r.err != nil {
				return nil, errors.New("short iref box")
			}
			if typ == "prem" || typ == "auxl" && m.isAlpha(from) {
				for _, id := range append(to, from) {
					m.alpha[id] = true // prem points from the picture to its alpha, auxl the other way
				}
			}
			if it := m.items[from]; it != nil && typ == "dimg" {
				if it.dimg != nil {
					return nil, fmt.Errorf("item %d has two dimg references", from)
				}
				it.dimg = to
			}
		}
	}
	return m, nil
}

// isAlpha says whether item id is an alpha plane by its auxC type (HEIF's
// and HEVC's names for alpha; others are depth maps, HDR gain maps and
// mattes, which a picture is shown without).
func (m *heifMeta) isAlpha(id uint32) bool {
	it := m.items[id]
	if it == nil {
		return false
	}
	c, ok := m.prop(it, "auxC")
	if !ok || len(c) < 4 {
		return true // an auxiliary image of no stated kind: taken as alpha, the cautious choice
	}
	urn, _, _ := bytes.Cut(c[4:], []byte{0})
	switch string(urn) {
	case "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1", "urn:mpeg:avc:2015:auxid:1":
		return true
	}
	return false
}

// data returns an item's bytes (its extents joined), charging them to a
// budget of twice the file size, so overlapping extents cannot multiply
// the work.
func (m *heifMeta) data(it *heifItem) ([]byte, error) {
	if !it.located {
		return nil, errors.New("no location")
	}
	from := m.src
	switch it.method {
	case 0:
	case 1:
		from = m.idat
	default:
		return nil, fmt.Errorf("construction method %d", it.method)
	}
	var out []byte
	for _, e := range it.extents {
		off, n := e[0], e[1]
		if n == 0 && off <= uint64(len(from)) {
			n = uint64(len(from)) - off // to the end
		}
		if off > uint64(len(from)) || n > uint64(len(from))-off {
			return nil, errors.New("an extent runs past the end of the file")
		}
		m.read += int(n)
		if m.read > 2*len(m.src)+1<<16 {
			return nil, errors.New("the items' extents overlap too much")
		}
		if len(it.extents) == 1 {
			return from[off : off+n], nil
		}
		out = append(out, from[off:off+n]...)
	}
	return out, nil
}

// ispe is the item's image spatial extents property, if it has one; two
// different ones are corrupt.
func (m *heifMeta) ispe(it *heifItem) (s [2]int, found bool, err error) {
	for _, p := range it.props {
		if p >= len(m.ipco) || m.ipco[p].typ != "ispe" {
			continue
		}
		b := m.ipco[p].body
		if len(b) < 12 {
			return s, false, errors.New("short ispe")
		}
		e := [2]int{int(binary.BigEndian.Uint32(b[4:8])), int(binary.BigEndian.Uint32(b[8:12]))}
		if found && e != s {
			return s, false, errors.New("two different ispe properties")
		}
		s, found = e, true
	}
	return s, found, nil
}

// prop is the item's first property of type typ.
func (m *heifMeta) prop(it *heifItem, typ string) ([]byte, bool) {
	for _, p := range it.props {
		if p < len(m.ipco) && m.ipco[p].typ == typ {
			return m.ipco[p].body, true
		}
	}
	return nil, false
}

// codedSize is the size of a coded image item: every size header in its
// configuration property and in its data must agree, and there must be one.
func (m *heifMeta) codedSize(it *heifItem, config func([]byte, func(w, h int)) error, item func([]byte, []byte, func(w, h int)) error) ([2]int, error) {
	cfgType := map[string]string{"av01": "av1C", "hvc1": "hvcC"}[it.typ]
	cfg, ok := m.prop(it, cfgType)
	if !ok {
		return [2]int{}, fmt.Errorf("no %s property", cfgType)
	}
	var s [2]int
	var bad error
	seen := func(w, h int) {
		if s != ([2]int{}) && s != [2]int{w, h} && bad == nil {
			bad = fmt.Errorf("the bitstream says both %dx%d and %dx%d", s[0], s[1], w, h)
		}
		s = [2]int{w, h}
	}
	if err := config(cfg, seen); err != nil {
		return [2]int{}, fmt.Errorf("%s: %v", cfgType, err)
	}
	data, err := m.data(it)
	if err != nil {
		return [2]int{}, err
	}
	if err := item(cfg, data, seen); err != nil {
		return [2]int{}, err
	}
	if bad != nil {
		return [2]int{}, bad
	}
	if s[0] <= 0 || s[1] <= 0 {
		return [2]int{}, errors.New("no size in the bitstream")
	}
	return s, nil
}

// gridSize checks a grid against its tiles: rows x columns tiles of one
// size that cover the output without a spare row or column.
func (m *heifMeta) gridSize(it *heifItem, tile func(uint32) ([2]int, error)) ([2]int, error) {
	d, err := m.data(it)
	if err != nil {
		return [2]int{}, err
	}
	r := &boxReader{b: d}
	r.u8() // version
	flags := r.u8()
	rows, cols := r.u8()+1, r.u8()+1
	fw := map[bool]int{true: 4, false: 2}[flags&1 != 0]
	w, h := r.uint(fw), r.uint(fw)
	if r.err != nil || w <= 0 || h <= 0 {
		return [2]int{}, errors.New("short or empty grid")
	}
	if len(it.dimg) != rows*cols {
		return [2]int{}, fmt.Errorf("%dx%d grid with %d tiles", cols, rows, len(it.dimg))
	}
	var ts [2]int
	for i, id := range it.dimg {
		s, err := tile(id)
		if err != nil {
			return [2]int{}, err
		}
		if i > 0 && s != ts {
			return [2]int{}, fmt.Errorf("tiles of %dx%d and %dx%d", ts[0], ts[1], s[0], s[1])
		}
		ts = s
	}
	if ts[0]*cols < w || ts[1]*rows < h || ts[0]*(cols-1) >= w || ts[1]*(rows-1) >= h {
		return [2]int{}, fmt.Errorf("%dx%d tiles of %dx%d do not make %dx%d", cols, rows, ts[0], ts[1], w, h)
	}
	return [2]int{w, h}, nil
}

// overlaySize is an overlay's canvas: the decoder allocates it whatever
// its layers are.
func (m *heifMeta) overlaySize(it *heifItem) ([2]int, error) {
	d, err := m.data(it)
	if err != nil {
		return [2]int{}, err
	}
	r := &boxReader{b: d}
	r.u8()
	flags := r.u8()
	r.skip(8) // fill colour
	fw := map[bool]int{true: 4, false: 2}[flags&1 != 0]
	w, h := r.uint(fw), r.uint(fw)
	if r.err != nil || w <= 0 || h <= 0 {
		return [2]int{}, errors.New("short or empty overlay")
	}
	return [2]int{w, h}, nil
}

// boxReader reads big-endian fields; past the end it records an error and
// returns zeros.
type boxReader struct {
	b   []byte
	err error
}

func (r *boxReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errTruncated
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *boxReader) skip(n int)     { r.take(n) }
func (r *boxReader) u8() int        { return int(r.take(1)[0]) }
func (r *boxReader) u16() int       { return int(binary.BigEndian.Uint16(r.take(2))) }
func (r *boxReader) fourcc() string { return string(r.take(4)) }
func (r *boxReader) rest() []byte   { return r.b }
func (r *boxReader) uint(n int) int { return int(min(r.sized(n), 1<<31)) }
func (r *boxReader) sized(n int) uint64 {
	var v uint64
	for _, c := range r.take(n) {
		v = v<<8 | uint64(c)
	}
	if n > 8 {
		r.err = fmt.Errorf("a %d-byte field", n)
	}
	return v
}
