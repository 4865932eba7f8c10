// Package quality measures how close a processed image is to a reference,
// so benchmarks can show that a faster path did not buy its speed with
// visible loss. It is used by benchmarks and tests only.
package quality

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Scores are PSNR over RGB (dB, capped at 99 for identical images) and the
// mean SSIM of luma over 8x8 windows with stride 4, both computed outside an
// excluded rectangle (the watermark, which a reference does not carry).
type Scores struct {
	PSNR float64
	SSIM float64
}

// Compare scores got against ref. Both must have the same size; exclude,
// when not empty, is left out of both scores.
func Compare(got, ref image.Image, exclude image.Rectangle) (Scores, error) {
	gb, rb := got.Bounds(), ref.Bounds()
	if gb.Dx() != rb.Dx() || gb.Dy() != rb.Dy() {
		return Scores{}, fmt.Errorf("quality: size %dx%d differs from the reference's %dx%d", gb.Dx(), gb.Dy(), rb.Dx(), rb.Dy())
	}
	w, h := gb.Dx(), gb.Dy()
	ga, ya := toRGB(got), toRGB(ref)
	keep := func(x, y int) bool { return !image.Pt(x, y).In(exclude) }
	return Scores{PSNR: psnr(ga, ya, w, h, keep), SSIM: ssim(luma(ga), luma(ya), w, h, keep)}, nil
}

// toRGB flattens m into packed 8-bit RGB, composited over black.
func toRGB(m image.Image) []uint8 {
	b := m.Bounds()
	if _, ok := m.(*image.RGBA); !ok { // one conversion through image/draw's fast paths
		rgba := image.NewRGBA(b)
		draw.Draw(rgba, b, m, b.Min, draw.Src)
		m = rgba
	}
	out := make([]uint8, 0, b.Dx()*b.Dy()*3)
	if rgba, ok := m.(*image.RGBA); ok {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := rgba.Pix[rgba.PixOffset(b.Min.X, y):rgba.PixOffset(b.Max.X, y)]
			for i := 0; i < len(row); i += 4 {
				out = append(out, row[i], row[i+1], row[i+2])
			}
		}
		return out
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

func luma(rgb []uint8) []float64 {
	out := make([]float64, len(rgb)/3)
	for i := range out {
		r, g, b := float64(rgb[3*i]), float64(rgb[3*i+1]), float64(rgb[3*i+2])
		out[i] = 0.299*r + 0.587*g + 0.114*b
	}
	return out
}

func psnr(a, b []uint8, w, h int, keep func(x, y int) bool) float64 {
	var sum float64
	var n int
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if !keep(x, y) {
				continue
			}
			i := 3 * (y*w + x)
			for c := 0; c < 3; c++ {
				d := float64(a[i+c]) - float64(b[i+c])
				sum += d * d
			}
			n += 3
		}
	}
	if n == 0 || sum == 0 {
		return 99
	}
	return math.Min(99, 10*math.Log10(255*255/(sum/float64(n))))
}

func ssim(a, b []float64, w, h int, keep func(x, y int) bool) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	const win, stride = 8, 4
	var total float64
	var n int
	for y := 0; y+win <= h; y += stride {
		for x := 0; x+win <= w; x += stride {
			if !keep(x, y) || !keep(x+win-1, y+win-1) {
				continue
			}
			var sa, sb, saa, sbb, sab float64
			for j := y; j < y+win; j++ {
				for i := x; i < x+win; i++ {
					p, q := a[j*w+i], b[j*w+i]
					sa += p
					sb += q
					saa += p * p
					sbb += q * q
					sab += p * q
				}
			}
			const m = win * win
			ma, mb := sa/m, sb/m
			va, vb := saa/m-ma*ma, sbb/m-mb*mb
			cov := sab/m - ma*mb
			total += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return total / float64(n)
}

// WatermarkBox is the rectangle excluded from scores for a bottom-right
// watermark at 15 % of the width: a generous box (a quarter of the width,
// an eighth of it high) so any margin a pipeline chooses stays inside.
func WatermarkBox(w, h int) image.Rectangle {
	return image.Rect(w-w/4, h-w/8, w, h)
}
