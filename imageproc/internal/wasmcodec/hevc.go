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

// HEVCDecoder decodes HEVC pictures one after another in one instance of
// libde265 (a fresh one after a refusal or a trap) and drops it on Close,
// never keeping it for another decoder: a corrupt stream leaves the parts
// of its picture it does not code as the buffer held them, which in an
// instance kept between requests would be another request's pixels. The
// zero value is ready; not for concurrent use.
type HEVCDecoder struct{ in *instance }

// Close drops the decoder's instance and its memory.
func (d *HEVCDecoder) Close() {
	if d.in != nil {
		d.in.mod.Close(d.in.ctx)
		d.in = nil
	}
}

// DecodeHEVC decodes the one picture coded in nals with a decoder of its
// own (see HEVCDecoder.Decode).
func DecodeHEVC(ctx context.Context, nals []byte, use func(*HEVCPicture) error) error {
	var d HEVCDecoder
	defer d.Close()
	return d.Decode(ctx, nals, use)
}

// Decode decodes the one picture coded in nals — NAL units, parameter
// sets first, each preceded by its length in 4 bytes big-endian — with
// libde265 (lib/de265: no container, no colour conversion) and hands its
// planes to use, which copies what it needs out of them.
func (d *HEVCDecoder) Decode(ctx context.Context, nals []byte, use func(*HEVCPicture) error) error {
	if d.in == nil {
		in, err := de265.instance(ctx)
		if err != nil {
			return err
		}
		d.in = in
	}
	in := d.in
	in.ctx = ctx
	defer func() { // kept for the decoder's next picture only when all is well
		if in.failed || in.mod.Memory().Size() > reuseMaxMemory || !in.freeAll() {
			d.Close()
		}
	}()
	src, err := in.put(nals)
	if err != nil {
		return err
	}
	vars, err := in.alloc(4 * 10)
	if err != nil {
		return err
	}
	if err := in.decode(uint64(src), uint64(len(nals)), uint64(vars)); err != nil {
		return err
	}
	var v [10]int
	for i := range v {
		v[i] = int(in.u32(vars + uint32(4*i)))
	}
	p := &HEVCPicture{Width: v[0], Height: v[1], Chroma: v[2], LumaDepth: v[3], ChromaDepth: v[4], YStride: v[8], CStride: v[9]}
	depthOK := func(d int) bool { return d >= 8 && d <= 16 }
	if p.Width <= 0 || p.Height <= 0 || p.Chroma < 0 || p.Chroma > 3 || !depthOK(p.LumaDepth) || p.Chroma != 0 && !depthOK(p.ChromaDepth) {
		in.failed = true
		return ErrDecode
	}
	plane := func(at, stride, w, h, depth int) ([]byte, error) {
		n, ok := planeLen(stride, w, h, depth)
		if !ok || at == 0 {
			return nil, errHEVCPlane
		}
		b, ok := in.mod.Memory().Read(uint32(at), uint32(n))
		if !ok {
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

// planeLen is how many bytes h rows of w samples of depth bits span at
// stride; ok is false when a row does not fit its stride or the span would
// pass 4 GiB. The numbers come from the module (up to 2^32-1 each), so
// nothing is multiplied before it is known not to wrap.
func planeLen(stride, w, h, depth int) (n int, ok bool) {
	row := w * ((depth + 7) / 8)
	if stride < row || h > 1 && stride > math.MaxUint32/(h-1) {
		return 0, false
	}
	n = stride*(h-1) + row
	return n, n <= math.MaxUint32
}

var errHEVCPlane = errors.New("de265: a plane lies outside the decoder's memory")
