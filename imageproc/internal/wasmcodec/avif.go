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
	if err := in.probe(src, len(data), vars); err != nil {
		return nil, err
	}
	w, h, depth := int(in.u32(vars)), int(in.u32(vars+4)), in.u32(vars+8)
	bpp := 4
	if depth > 8 {
		bpp = 8
	}
	pix, err := in.firstFrame(src, len(data), vars, w, h, bpp, 8)
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
