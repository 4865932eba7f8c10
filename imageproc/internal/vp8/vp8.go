// Package vp8 converts the pixels Go's WebP decoders return for lossy
// (VP8) WebP into RGB correctly. Both golang.org/x/image/webp and
// github.com/gen2brain/webp hand back the raw VP8 planes as *image.YCbCr or
// *image.NYCbCrA, which Go's colour code reads as full-range JPEG YCbCr,
// while VP8 stores limited-range ("studio swing", Y 16-235) BT.601: blacks
// come out grey, whites dim and colours washed out (golang/go#40173), and
// every re-encode makes it worse. ToNRGBA applies libwebp's conversion.
package vp8

import "image"

// 14-bit fixed-point BT.601 limited-range coefficients (as libwebp's yuv.h).
const (
	kY  = 19077 // 255/219
	kRV = 26149 // 1.596
	kGU = 6419  // 0.392
	kGV = 13320 // 0.813
	kBU = 33050 // 2.017
)

// ToNRGBA converts a lossy WebP's planes (*image.YCbCr, or *image.NYCbCrA
// when it has alpha) to *image.NRGBA with the right colours. Other images
// are returned unchanged with ok false.
func ToNRGBA(m image.Image) (out *image.NRGBA, ok bool) {
	var yc *image.YCbCr
	var alpha []uint8
	var aStride int
	switch m := m.(type) {
	case *image.YCbCr:
		yc = m
	case *image.NYCbCrA:
		yc, alpha, aStride = &m.YCbCr, m.A, m.AStride
	default:
		return nil, false
	}
	b := yc.Rect
	out = image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := out.Pix[out.PixOffset(b.Min.X, y):]
		for x := b.Min.X; x < b.Max.X; x++ {
			yy := (int32(yc.Y[yc.YOffset(x, y)]) - 16) * kY
			ci := yc.COffset(x, y)
			u, v := int32(yc.Cb[ci])-128, int32(yc.Cr[ci])-128
			p := row[4*(x-b.Min.X) : 4*(x-b.Min.X)+4 : 4*(x-b.Min.X)+4]
			p[0] = clip(yy + kRV*v)
			p[1] = clip(yy - kGU*u - kGV*v)
			p[2] = clip(yy + kBU*u)
			p[3] = 255
			if alpha != nil {
				p[3] = alpha[(y-b.Min.Y)*aStride+(x-b.Min.X)]
			}
		}
	}
	return out, true
}

func clip(v int32) uint8 {
	v = (v + 1<<13) >> 14
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
