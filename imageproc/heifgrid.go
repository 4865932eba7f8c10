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
// iPhone), each coded as its own HEVC picture, and a 'grid' item says how
// to lay them out. picbed reads the container itself and hands each tile's
// HEVC stream (its hvcC parameter sets, then its slices) to libde265 alone
// (wasmcodec.HEVCDecoder, no libheif), on both cores (one WebAssembly
// instance each, for this picture only), straight into the planes of the
// whole picture, and turns the result as the grid's irot says. A
// single-image HEIC is a grid of one tile; auxiliary images other than
// alpha (an iPhone's depth map or HDR gain map) are left out, as libheif
// leaves them out. Anything else (alpha, cropping, mirroring, 10-bit,
// 4:2:2/4:4:4, non-HEVC tiles) goes to libheif whole.

// heicGrid is a primary image whose tiles can be decoded alone.
type heicGrid struct {
	rows, cols   int
	outW, outH   int
	tileW, tileH int
	tiles        [][]byte // each tile's NAL units, 4-byte length before each, row by row
	orientation  int      // EXIF equivalent of the primary item's irot
}

// parseHEICGrid reads src's meta box; ok is false when the primary image is
// neither a grid nor a single HEVC picture picbed decodes tile by tile.
func parseHEICGrid(src []byte) (g *heicGrid, ok bool) {
	m, err := heifMetaOf(src)
	if err != nil {
		return nil, false
	}
	p := m.items[m.primary]
	if p == nil || (p.typ != "grid" && p.typ != "hvc1") || m.alpha[m.primary] || len(p.dimg) > maxGridTiles {
		return nil, false // an alpha plane belongs to the picture: libheif (a depth map or gain map does not)
	}
	g = &heicGrid{orientation: 1}
	for _, i := range p.props {
		switch b := m.ipco[i].body; m.ipco[i].typ {
		case "ispe", "colr", "pixi", "pasp", "hvcC":
		case "irot":
			if len(b) < 1 {
				return nil, false
			}
			g.orientation = [4]int{1, 8, 3, 6}[b[0]&3] // anticlockwise quarter turns
		default: // clap, imir, or anything unknown
			return nil, false
		}
	}
	tiles := []uint32{m.primary}
	if p.typ == "grid" {
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
		tiles = p.dimg
	}
	for i, id := range tiles {
		t := m.items[id]
		if t == nil || t.typ != "hvc1" {
			return nil, false
		}
		if p.typ == "grid" {
			for _, k := range t.props {
				switch m.ipco[k].typ {
				case "hvcC", "ispe", "colr", "pixi", "pasp":
				default:
					return nil, false
				}
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
		nals, ok := hevcStream(hvcC, data)
		if !ok {
			return nil, false
		}
		g.tiles = append(g.tiles, nals)
	}
	if p.typ == "hvc1" {
		g.rows, g.cols, g.outW, g.outH = 1, 1, g.tileW, g.tileH
	}
	if g.cols*g.tileW < g.outW || g.rows*g.tileH < g.outH {
		return nil, false
	}
	return g, true
}

// hevcStream is what libde265 reads for one coded picture: the parameter
// sets of its hvcC, then the NAL units of its data, each after its length
// in 4 bytes (the data's own lengths are 1, 2 or 4 bytes, as hvcC says).
func hevcStream(hvcC, data []byte) ([]byte, bool) {
	r := &boxReader{b: hvcC[21:]}
	lenSize := r.u8()&3 + 1
	if lenSize == 3 {
		return nil, false
	}
	out := make([]byte, 0, len(hvcC)+len(data)+64)
	put := func(nal []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(nal)))
		out = append(out, nal...)
	}
	for arrays := r.u8(); arrays > 0 && r.err == nil; arrays-- {
		r.u8() // completeness and NAL unit type
		for n := r.u16(); n > 0 && r.err == nil; n-- {
			if nal := r.take(r.u16()); r.err == nil {
				put(nal)
			}
		}
	}
	if r.err != nil {
		return nil, false
	}
	if lenSize == 4 {
		return append(out, data...), true // libde265 checks each length against the rest
	}
	for d := (&boxReader{b: data}); len(d.b) > 0; {
		nal := d.take(d.uint(lenSize))
		if d.err != nil {
			return nil, false
		}
		put(nal)
	}
	return out, true
}

// maxGridTiles bounds the tile path: a grid of thousands of tiny tiles
// would cost a decoder each; libheif takes those.
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
		var d wasmcodec.HEVCDecoder // one instance for this worker's tiles, dropped with this picture
		defer d.Close()
		for i := lo; i < hi; i++ {
			if err := g.place(ctx, &d, dst, i); err != nil {
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
func (g *heicGrid) place(ctx context.Context, d *wasmcodec.HEVCDecoder, dst *image.YCbCr, i int) error {
	if err := ctx.Err(); err != nil { // a codec call cannot be stopped, a grid between tiles can
		return err
	}
	return d.Decode(ctx, g.tiles[i], func(t *wasmcodec.HEVCPicture) error {
		if t.Chroma != 1 || t.LumaDepth != 8 || t.ChromaDepth != 8 || t.Width != g.tileW || t.Height != g.tileH {
			return errors.New("a tile decoded to another shape than its hvcC and ispe say")
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
	})
}
