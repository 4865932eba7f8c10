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

// FromYCbCr writes a 4:2:0 *image.YCbCr (full-range JPEG YCbCr, as Go
// reads it) as VP8's limited-range planes: y is w x h at stride w, u and v
// (w+1)/2 x (h+1)/2 at stride (w+1)/2. Both are BT.601, so this is the
// range change alone (Y 0-255 to 16-235, Cb and Cr 0-255 to 16-240), the
// same numbers libwebp's own RGB to YUV conversion gives, without the RGB
// round trip.
func FromYCbCr(y, u, v []byte, m *image.YCbCr) {
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	for r := 0; r < h; r++ {
		src := m.Y[m.YOffset(b.Min.X, b.Min.Y+r):][:w]
		dst := y[r*w:][:w]
		for i, s := range src {
			dst[i] = lumaRange[s]
		}
	}
	for r := 0; r < ch; r++ {
		o := m.COffset(b.Min.X, b.Min.Y+2*r)
		cb, cr := m.Cb[o:][:cw], m.Cr[o:][:cw]
		du, dv := u[r*cw:][:cw], v[r*cw:][:cw]
		for i := range cb {
			du[i] = chromaRange[cb[i]]
			dv[i] = chromaRange[cr[i]]
		}
	}
}

// lumaRange and chromaRange map full-range values to limited range, rounded.
var lumaRange, chromaRange = func() (l, c [256]uint8) {
	for i := range 256 {
		l[i] = uint8(16 + (i*219+127)/255)
		c[i] = uint8(128 + ((i-128)*224*2+255*sign(i-128))/(2*255))
	}
	return
}()

func sign(v int) int {
	if v < 0 {
		return -1
	}
	return 1
}
