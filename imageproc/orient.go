package imageproc

import (
	"image"
	"image/draw"

	"github.com/disintegration/imaging"
)

// fitSize is the size a w x h image is shrunk to so it fits within maxW x
// maxH (0 = no bound), keeping its aspect ratio and never growing it.
func fitSize(w, h, maxW, maxH int) (int, int) {
	s := 1.0
	if maxW > 0 && w > maxW {
		s = float64(maxW) / float64(w)
	}
	if maxH > 0 && h > maxH {
		s = min(s, float64(maxH)/float64(h))
	}
	if s == 1 {
		return w, h
	}
	return max(1, int(float64(w)*s+0.5)), max(1, int(float64(h)*s+0.5))
}

// swapsSides says whether EXIF orientation o turns the stored picture by a
// quarter (5-8), so that width and height trade places on display.
func swapsSides(o int) bool { return o >= 5 && o <= 8 }

// toRGBA returns img as an *image.RGBA at origin (0,0), copying only when
// it is not one already.
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// orient turns a picture stored with EXIF orientation o (1-8) upright.
// Orientation o says where the stored rows and columns belong; each output
// pixel (x, y) is read from the stored pixel that transform o maps there.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	if m, ok := img.(*image.YCbCr); ok && m.SubsampleRatio == image.YCbCrSubsampleRatio420 &&
		m.Rect.Dx()%2 == 0 && m.Rect.Dy()%2 == 0 {
		// planes turned one by one: no RGB round trip (rounding, clipping),
		// and the encoder takes the result as it is
		b := m.Rect
		y, w, h := orientPlane(m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride, b.Dx(), b.Dy(), o)
		co := m.COffset(b.Min.X, b.Min.Y)
		cb, _, _ := orientPlane(m.Cb[co:], m.CStride, b.Dx()/2, b.Dy()/2, o)
		cr, _, _ := orientPlane(m.Cr[co:], m.CStride, b.Dx()/2, b.Dy()/2, o)
		return &image.YCbCr{Y: y, Cb: cb, Cr: cr, YStride: w, CStride: w / 2,
			SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}
	}
	// anything else: imaging's transforms (straight RGBA out)
	switch o {
	case 2: // mirrored
		return imaging.FlipH(img)
	case 3: // upside down
		return imaging.Rotate180(img)
	case 4: // flipped
		return imaging.FlipV(img)
	case 5: // transposed
		return imaging.Transpose(img)
	case 6: // stored turned 90° counter-clockwise
		return imaging.Rotate270(img)
	case 7: // transversed
		return imaging.Transverse(img)
	}
	return imaging.Rotate90(img) // 8: stored turned 90° clockwise
}

// orientPlane is orient for one 8-bit plane of sw x sh samples: the turned
// plane, tightly packed, and its size.
func orientPlane(pix []uint8, stride, sw, sh, o int) ([]uint8, int, int) {
	dw, dh := sw, sh
	if swapsSides(o) {
		dw, dh = sh, sw
	}
	out := make([]uint8, dw*dh)
	for y := 0; y < dh; y++ {
		row := out[y*dw : y*dw+dw]
		switch o {
		case 2, 3, 4: // rows stay rows
			sy := y
			if o != 2 {
				sy = sh - 1 - y
			}
			in := pix[sy*stride : sy*stride+sw]
			if o == 4 {
				copy(row, in)
				continue
			}
			for x := range row {
				row[x] = in[sw-1-x]
			}
		default: // 5-8: rows come from columns
			sx := y // 5, 6
			if o == 7 || o == 8 {
				sx = sw - 1 - y
			}
			for x := range row {
				sy := x // 5, 8
				if o == 6 || o == 7 {
					sy = sh - 1 - x
				}
				row[x] = pix[sy*stride+sx]
			}
		}
	}
	return out, dw, dh
}
