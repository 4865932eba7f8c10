package imageproc

import (
	"context"
	"encoding/binary"
	"errors"
	"image"
	"sync"

	"picbed/imageproc/internal/wasmcodec"
	"picbed/imageproc/internal/workers"
)

// A phone's HEIC is a grid: the picture is cut into tiles (512x512 on an
// iPhone), each coded as its own HEVC image, and a 'grid' item says how to
// lay them out. libheif decodes the tiles one after the other on one core;
// picbed splits the file into one small single-image HEIF per tile, decodes
// them on both cores (one WebAssembly instance each) straight into the
// planes of the whole picture, and turns the result as the grid's irot
// says. Anything else (alpha, cropping, mirroring, 10-bit, 4:2:2/4:4:4,
// non-HEVC tiles) goes to libheif whole.

// heicGrid is a grid primary image whose tiles can be decoded alone.
type heicGrid struct {
	rows, cols   int
	outW, outH   int
	tileW, tileH int
	tiles        [][]byte // single-image HEIF files, row by row
	orientation  int      // EXIF equivalent of the grid's irot
}

// parseHEICGrid reads src's meta box; ok is false when the primary image is
// not a grid picbed decodes tile by tile.
func parseHEICGrid(src []byte) (g *heicGrid, ok bool) {
	m, err := heifMetaOf(src)
	if err != nil {
		return nil, false
	}
	p := m.items[m.primary]
	if p == nil || p.typ != "grid" || m.aux[m.primary] || len(p.dimg) > maxGridTiles {
		return nil, false // alpha or depth planes belong to the picture: libheif
	}
	g = &heicGrid{orientation: 1}
	for _, i := range p.props {
		switch b := m.ipco[i].body; m.ipco[i].typ {
		case "ispe", "colr", "pixi", "pasp":
		case "irot":
			if len(b) < 1 {
				return nil, false
			}
			g.orientation = [4]int{1, 8, 3, 6}[b[0]&3] // anticlockwise quarter turns
		default: // clap, imir, or anything unknown
			return nil, false
		}
	}
	d, err := m.data(p)
	if err != nil {
		return nil, false
	}
	r := &boxReader{b: d}
	r.u8() // version
	flags := r.u8()
	g.rows, g.cols = r.u8()+1, r.u8()+1
	fw := map[bool]int{true: 4, false: 2}[flags&1 != 0]
	g.outW, g.outH = r.uint(fw), r.uint(fw)
	if r.err != nil || len(p.dimg) != g.rows*g.cols || g.outW <= 0 || g.outH <= 0 {
		return nil, false
	}
	for i, id := range p.dimg {
		t := m.items[id]
		if t == nil || t.typ != "hvc1" {
			return nil, false
		}
		for _, k := range t.props {
			switch m.ipco[k].typ {
			case "hvcC", "ispe", "colr", "pixi", "pasp":
			default:
				return nil, false
			}
		}
		hvcC, _ := m.prop(t, "hvcC")
		e, found, err := m.ispe(t)
		// hvcC: chroma_format_idc at 16 (4:2:0 is 1), bit depths - 8 at 17 and 18
		if !found || err != nil || len(hvcC) < 23 || hvcC[16]&3 != 1 || hvcC[17]&7 != 0 || hvcC[18]&7 != 0 {
			return nil, false
		}
		if i == 0 {
			g.tileW, g.tileH = e[0], e[1]
		}
		if e != [2]int{g.tileW, g.tileH} || e[0]%2 != 0 || e[1]%2 != 0 || e[0] == 0 || e[1] == 0 {
			return nil, false
		}
		data, err := m.data(t)
		if err != nil || len(data) == 0 {
			return nil, false
		}
		g.tiles = append(g.tiles, singleHEIF(hvcC, e, data))
	}
	if g.cols*g.tileW < g.outW || g.rows*g.tileH < g.outH {
		return nil, false
	}
	return g, true
}

// singleHEIF wraps one HEVC-coded tile as a HEIF file of its own: one
// 'hvc1' item (ID 1) with the tile's hvcC (body) and size, its data in mdat.
func singleHEIF(hvcC []byte, size [2]int, data []byte) []byte {
	box := func(typ string, parts ...[]byte) []byte {
		n := 8
		for _, p := range parts {
			n += len(p)
		}
		b := make([]byte, 8, n)
		binary.BigEndian.PutUint32(b, uint32(n))
		copy(b[4:], typ)
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	full := []byte{0, 0, 0, 0} // version 0, flags 0
	ftyp := box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	hdlr := box("hdlr", full, make([]byte, 4), []byte("pict"), make([]byte, 12), []byte{0})
	pitm := box("pitm", full, []byte{0, 1})
	infe := box("infe", []byte{2, 0, 0, 0}, []byte{0, 1, 0, 0}, []byte("hvc1"), []byte{0})
	iinf := box("iinf", full, []byte{0, 1}, infe)
	wh := make([]byte, 8)
	binary.BigEndian.PutUint32(wh, uint32(size[0]))
	binary.BigEndian.PutUint32(wh[4:], uint32(size[1]))
	ipco := box("ipco", box("hvcC", hvcC), box("ispe", full, wh))
	ipma := box("ipma", full, []byte{0, 0, 0, 1, 0, 1, 2, 0x81, 0x02})
	iprp := box("iprp", ipco, ipma)
	// iloc v0: 4-byte offsets and lengths, no base offset; one extent
	ilocLen := 8 + 4 + 2 + 2 + 2 + 2 + 2 + 4 + 4
	metaLen := 8 + 4 + len(hdlr) + len(pitm) + ilocLen + len(iinf) + len(iprp)
	off := uint32(len(ftyp) + metaLen + 8)
	loc := []byte{0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(loc[10:], off)
	binary.BigEndian.PutUint32(loc[14:], uint32(len(data)))
	iloc := box("iloc", full, loc)
	meta := box("meta", full, hdlr, pitm, iloc, iinf, iprp)
	out := append(ftyp, meta...)
	return append(out, box("mdat", data)...)
}

// maxGridTiles bounds the tile path: a grid of thousands of tiny tiles
// would cost an instance each; libheif takes those.
const maxGridTiles = 1024

// heifTurnsSides says whether the primary image's irot turns it a quarter
// (its displayed width is its coded height): libheif applies irot, so the
// decoded picture has the sides the other way round from ispe.
func heifTurnsSides(src []byte) bool {
	m, err := heifMetaOf(src)
	if err != nil || m.items[m.primary] == nil {
		return false
	}
	b, ok := m.prop(m.items[m.primary], "irot")
	return ok && len(b) >= 1 && b[0]&1 == 1
}

// tileWorkers is how many tiles decode at once (FC's 2 vCPU).
const tileWorkers = 2

// decode decodes every tile and places it in one 4:2:0 picture of the
// grid's output size, in stored orientation.
func (g *heicGrid) decode(ctx context.Context) (*image.YCbCr, error) {
	dst := image.NewYCbCr(image.Rect(0, 0, g.outW, g.outH), image.YCbCrSubsampleRatio420)
	var once sync.Once
	var firstErr error
	// a panic in a worker (a tile that lies about its shape) comes back as
	// an error, which decode reports as a corrupt file
	err := workers.Split(len(g.tiles), tileWorkers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if err := g.place(ctx, dst, i); err != nil {
				once.Do(func() { firstErr = err })
				return
			}
		}
	})
	if err := errors.Join(firstErr, err); err != nil {
		return nil, err
	}
	return dst, nil
}

// place decodes tile i and copies the part inside the picture into dst.
func (g *heicGrid) place(ctx context.Context, dst *image.YCbCr, i int) error {
	if err := ctx.Err(); err != nil { // a codec call cannot be stopped, a grid between tiles can
		return err
	}
	m, err := wasmcodec.DecodeHEIC(ctx, g.tiles[i])
	if err != nil {
		return err
	}
	t, ok := m.(*image.YCbCr)
	if !ok || t.SubsampleRatio != image.YCbCrSubsampleRatio420 || t.Rect.Dx() != g.tileW || t.Rect.Dy() != g.tileH {
		return errors.New("a grid tile decoded to another shape than its hvcC and ispe say")
	}
	x0, y0 := (i%g.cols)*g.tileW, (i/g.cols)*g.tileH
	w, h := min(g.tileW, g.outW-x0), min(g.tileH, g.outH-y0)
	if w <= 0 || h <= 0 {
		return nil
	}
	for y := 0; y < h; y++ {
		copy(dst.Y[(y0+y)*dst.YStride+x0:][:w], t.Y[y*t.YStride:][:w])
	}
	cx0, cy0, cw, ch := x0/2, y0/2, (w+1)/2, (h+1)/2
	for y := 0; y < ch; y++ {
		d, s := (cy0+y)*dst.CStride+cx0, y*t.CStride
		copy(dst.Cb[d:][:cw], t.Cb[s:][:cw])
		copy(dst.Cr[d:][:cw], t.Cr[s:][:cw])
	}
	return nil
}
