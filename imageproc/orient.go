package imageproc

import (
	"image"
	"image/draw"
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
	src := toRGBA(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := sw, sh
	if swapsSides(o) {
		dw, dh = sh, sw
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+dw*4]
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2: // mirrored
				sx, sy = sw-1-x, y
			case 3: // upside down
				sx, sy = sw-1-x, sh-1-y
			case 4: // flipped
				sx, sy = x, sh-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // stored turned 90° counter-clockwise
				sx, sy = y, sh-1-x
			case 7: // transversed
				sx, sy = sw-1-y, sh-1-x
			case 8: // stored turned 90° clockwise
				sx, sy = sw-1-y, x
			}
			i := sy*src.Stride + sx*4
			copy(row[x*4:x*4+4], src.Pix[i:i+4])
		}
	}
	return dst
}
