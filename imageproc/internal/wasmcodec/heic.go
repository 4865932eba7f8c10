package wasmcodec

import (
	"context"
	"fmt"
	"image"
)

// libheif's colour spaces and chroma formats (heif.h)
const (
	heifYCbCr      = 0
	heifRGB        = 1
	heifMonochrome = 2

	heifChroma420 = 1
	heifChroma422 = 2
	heifChroma444 = 3
)

// DecodeHEIC decodes the primary image of a HEIC file whole, with libheif
// applying its transformations (irot, imir, clap): *image.YCbCr for
// Y'CbCr pictures (planes as coded), *image.Gray, or *image.RGBA/NRGBA
// for pictures with alpha.
func DecodeHEIC(ctx context.Context, data []byte) (image.Image, error) {
	in, src, vars, err := heif.load(ctx, data, 5)
	if err != nil {
		return nil, err
	}
	defer in.close()
	wp, hp, csp, chp, pmp := vars, vars+4, vars+8, vars+12, vars+16
	if err := in.decode(uint64(src), uint64(len(data)), 1, uint64(wp), uint64(hp), uint64(csp), uint64(chp), uint64(pmp), 0); err != nil {
		return nil, err
	}
	w, h := int(in.u32(wp)), int(in.u32(hp))
	cs, chroma, premul := in.u32(csp), in.u32(chp), in.u32(pmp)
	if w <= 0 || h <= 0 {
		return nil, ErrDecode
	}
	rect := image.Rect(0, 0, w, h)
	var size, stride, cw, ch int
	var ratio image.YCbCrSubsampleRatio
	switch cs {
	case heifYCbCr:
		switch chroma {
		case heifChroma420:
			ratio, cw, ch = image.YCbCrSubsampleRatio420, (w+1)/2, (h+1)/2
		case heifChroma422:
			ratio, cw, ch = image.YCbCrSubsampleRatio422, (w+1)/2, h
		case heifChroma444:
			ratio, cw, ch = image.YCbCrSubsampleRatio444, w, h
		default:
			return nil, fmt.Errorf("heif: unsupported chroma %d", chroma)
		}
		// heif.c copies with libheif's strides, which are 16-aligned
		stride, cw = align16(w), align16(cw)
		size = stride*h + 2*cw*ch
	case heifMonochrome:
		stride = align16(w)
		size = stride * h
	case heifRGB:
		stride = align16(4 * w)
		size = stride * h
	default:
		return nil, fmt.Errorf("heif: unsupported colour space %d", cs)
	}
	out, err := in.alloc(size)
	if err != nil {
		return nil, err
	}
	if err := in.decode(uint64(src), uint64(len(data)), 0, uint64(wp), uint64(hp), uint64(csp), uint64(chp), uint64(pmp), uint64(out)); err != nil {
		return nil, err
	}
	pix, err := in.bytes(out, size)
	if err != nil {
		return nil, err
	}
	switch cs {
	case heifYCbCr:
		i0, i1 := stride*h, stride*h+cw*ch
		return &image.YCbCr{Y: pix[:i0:i0], Cb: pix[i0:i1:i1], Cr: pix[i1:], YStride: stride, CStride: cw,
			SubsampleRatio: ratio, Rect: rect}, nil
	case heifMonochrome:
		return &image.Gray{Pix: pix, Stride: stride, Rect: rect}, nil
	}
	if premul == 1 {
		return &image.RGBA{Pix: pix, Stride: stride, Rect: rect}, nil
	}
	return &image.NRGBA{Pix: pix, Stride: stride, Rect: rect}, nil
}

func align16(n int) int { return (n + 15) &^ 15 }
