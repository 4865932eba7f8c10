package quality

import (
	"image"
	"image/color"
	"testing"
)

func gradient(w, h int, shift uint8) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{uint8(x*4) + shift, uint8(y * 4), uint8(x + y), 255})
		}
	}
	return m
}

func TestCompare(t *testing.T) {
	a := gradient(64, 48, 0)
	noisy := gradient(64, 48, 0)
	for i := 0; i < len(noisy.Pix); i += 28 {
		noisy.Pix[i] ^= 0x3f
	}
	tests := []struct {
		name             string
		got              image.Image
		exclude          image.Rectangle
		minPSNR, maxPSNR float64
		minSSIM, maxSSIM float64
	}{
		{"identical", a, image.Rectangle{}, 99, 99, 1, 1},
		{"noisy", noisy, image.Rectangle{}, 15, 40, 0.2, 0.99},
		{"noise excluded", noisy, image.Rect(0, 0, 64, 48), 99, 99, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compare(tt.got, a, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if s.PSNR < tt.minPSNR || s.PSNR > tt.maxPSNR || s.SSIM < tt.minSSIM || s.SSIM > tt.maxSSIM {
				t.Errorf("got %+v, want PSNR in [%g,%g], SSIM in [%g,%g]", s, tt.minPSNR, tt.maxPSNR, tt.minSSIM, tt.maxSSIM)
			}
		})
	}
	if _, err := Compare(gradient(10, 10, 0), a, image.Rectangle{}); err == nil {
		t.Error("sizes differ: got no error")
	}
}
