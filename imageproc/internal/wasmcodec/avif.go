package wasmcodec

import (
	"context"
	"image"
)

// DecodeAVIF decodes the first frame of an AVIF file as *image.RGBA, or
// *image.RGBA64 for more than 8 bits per sample.
func DecodeAVIF(ctx context.Context, data []byte) (image.Image, error) {
	in, src, vars, err := avif.load(ctx, data, 4)
	if err != nil {
		return nil, err
	}
	defer in.close()
	wp, hp, dp, np := vars, vars+4, vars+8, vars+12
	if err := in.decode(uint64(src), uint64(len(data)), 1, 0, uint64(wp), uint64(hp), uint64(dp), uint64(np), 0, 0); err != nil {
		return nil, err
	}
	w, h, depth := int(in.u32(wp)), int(in.u32(hp)), in.u32(dp)
	if w <= 0 || h <= 0 {
		return nil, ErrDecode
	}
	bpp := 4
	if depth > 8 {
		bpp = 8
	}
	size := w * h * bpp
	out, err := in.alloc(size)
	if err != nil {
		return nil, err
	}
	delay, err := in.alloc(8)
	if err != nil {
		return nil, err
	}
	if err := in.decode(uint64(src), uint64(len(data)), 0, 0, uint64(wp), uint64(hp), uint64(dp), uint64(np), uint64(delay), uint64(out)); err != nil {
		return nil, err
	}
	pix, err := in.bytes(out, size)
	if err != nil {
		return nil, err
	}
	rect := image.Rect(0, 0, w, h)
	if bpp == 4 {
		return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: rect}, nil
	}
	for i := 0; i+1 < len(pix); i += 2 { // little-endian samples; RGBA64 is big-endian
		pix[i], pix[i+1] = pix[i+1], pix[i]
	}
	return &image.RGBA64{Pix: pix, Stride: 8 * w, Rect: rect}, nil
}
