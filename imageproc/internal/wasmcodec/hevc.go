package wasmcodec

import (
	"context"
	"errors"
	"math"
)

// HEVCPicture is one decoded HEVC picture: its planes as libde265 holds
// them in the decoder's memory, cropped to the conformance window. The
// slices are views of that memory, valid only inside DecodeHEVC's use.
type HEVCPicture struct {
	Width, Height int
	// Chroma is the chroma format: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
	Chroma int
	// LumaDepth and ChromaDepth are bits per sample (over 8: two bytes,
	// little-endian).
	LumaDepth, ChromaDepth int
	Y, Cb, Cr              []byte
	YStride, CStride       int
}

// DecodeHEVC decodes the one picture coded in nals — NAL units, parameter
// sets first, each preceded by its length in 4 bytes big-endian — with
// libde265 (lib/de265: no container, no colour conversion) and hands its
// planes to use, which copies what it needs out of them.
func DecodeHEVC(ctx context.Context, nals []byte, use func(*HEVCPicture) error) error {
	in, src, vars, err := de265.load(ctx, nals, 10)
	if err != nil {
		return err
	}
	defer in.close()
	if err := in.decode(uint64(src), uint64(len(nals)), uint64(vars)); err != nil {
		return err
	}
	var v [10]int
	for i := range v {
		v[i] = int(in.u32(vars + uint32(4*i)))
	}
	p := &HEVCPicture{Width: v[0], Height: v[1], Chroma: v[2], LumaDepth: v[3], ChromaDepth: v[4], YStride: v[8], CStride: v[9]}
	if p.Width <= 0 || p.Height <= 0 || p.Chroma < 0 || p.Chroma > 3 || p.LumaDepth < 8 || p.LumaDepth > 16 {
		in.failed = true
		return ErrDecode
	}
	bytesPer := func(depth int) int { return (depth + 7) / 8 }
	plane := func(at, stride, w, h, depth int) ([]byte, error) {
		row := w * bytesPer(depth)
		if stride < row {
			return nil, errHEVCPlane
		}
		n := stride*(h-1) + row
		if n > math.MaxUint32 { // a corrupted module's numbers must not wrap
			return nil, errHEVCPlane
		}
		b, ok := in.mod.Memory().Read(uint32(at), uint32(n))
		if !ok || at == 0 {
			return nil, errHEVCPlane
		}
		return b, nil
	}
	if p.Y, err = plane(v[5], p.YStride, p.Width, p.Height, p.LumaDepth); err != nil {
		in.failed = true
		return err
	}
	if p.Chroma != 0 {
		cw, ch := p.Width, p.Height
		if p.Chroma != 3 {
			cw = (cw + 1) / 2
		}
		if p.Chroma == 1 {
			ch = (ch + 1) / 2
		}
		if p.Cb, err = plane(v[6], p.CStride, cw, ch, p.ChromaDepth); err == nil {
			p.Cr, err = plane(v[7], p.CStride, cw, ch, p.ChromaDepth)
		}
		if err != nil {
			in.failed = true
			return err
		}
	}
	return use(p)
}

var errHEVCPlane = errors.New("de265: a plane lies outside the decoder's memory")
