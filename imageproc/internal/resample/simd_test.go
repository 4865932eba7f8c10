package resample

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// withSIMD runs fn with the kernels on or off, restoring the default.
func withSIMD(on bool, fn func()) {
	saved := useSIMD
	useSIMD = on
	defer func() { useSIMD = saved }()
	fn()
}

// TestSIMDMatchesGo: the AVX2 kernels give the Go loops' bytes on random
// pictures, for both kernel widths (8 and 16 taps), odd tap counts, widths
// that leave a tail for the Go loop, strides wider than the picture, and
// a last row whose windows reach the plane's end.
func TestSIMDMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2 on this machine: only the Go loops run")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ sw, sh, w, h, pad int }{
		{4032, 64, 1920, 30, 0}, // 13 taps: K16
		{2016, 40, 1920, 38, 0}, // 7 taps: K8
		{1008, 33, 960, 31, 5},
		{101, 77, 37, 29, 3},
		{64, 64, 63, 17, 0},
		{40, 300, 19, 9, 1},  // 24 taps vertically, 5 horizontally
		{200, 20, 13, 20, 0}, // > 16 taps: horizontal in Go, vertical copies
		{17, 9, 16, 8, 0},
	}
	for _, c := range cases {
		stride := c.sw + c.pad
		pix := make([]uint8, stride*(c.sh-1)+c.sw) // the last row ends the slice
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		if c.sw == 64 { // extremes: flat runs of 0 and 255 clamp both ways
			for i := range pix {
				pix[i] = uint8(255 * (i / 7 % 2))
			}
		}
		m := &image.Gray{Pix: pix, Stride: stride, Rect: image.Rect(0, 0, c.sw, c.sh)}
		var got, want image.Image
		var gerr, werr error
		withSIMD(true, func() { got, gerr = ResizePlanes(m, c.w, c.h, Lanczos3) })
		withSIMD(false, func() { want, werr = ResizePlanes(m, c.w, c.h, Lanczos3) })
		if gerr != nil || werr != nil {
			t.Fatalf("%+v: %v, %v", c, gerr, werr)
		}
		if !bytes.Equal(got.(*image.Gray).Pix, want.(*image.Gray).Pix) {
			t.Errorf("%dx%d -> %dx%d: the kernels' output differs from the Go loops'", c.sw, c.sh, c.w, c.h)
		}
		// each pass on its own: the final rounding hides most differences
		// in the 16-bit samples between them; the vertical pass also gets
		// random samples, not only what horizontal16 makes
		src := plane{pix: pix, stride: stride, w: c.sw, h: c.sh}
		mid := make([]uint16, c.w*c.sh)
		for j := range mid {
			mid[j] = uint16(rng.IntN(255<<midBits + 1))
		}
		var h16 [2][]uint16
		var v8 [2][]uint8
		for i, on := range []bool{true, false} {
			withSIMD(on, func() {
				wx := makeWeights(c.sw, c.w, float64(c.sw)/float64(c.w), Lanczos3)
				wx.forSIMD(true)
				h16[i] = hPlane(src, wx, c.w)
				wy := makeWeights(c.sh, c.h, float64(c.sh)/float64(c.h), Lanczos3)
				wy.forSIMD(false)
				v8[i] = make([]uint8, c.w*c.h)
				acc := make([]int32, c.w)
				for y := 0; y < c.h; y++ {
					vertical16Row(mid[wy.start[y]*c.w:], c.w, v8[i][y*c.w:(y+1)*c.w], &wy, y, acc)
				}
			})
		}
		for j := range h16[0] {
			if h16[0][j] != h16[1][j] {
				t.Fatalf("%dx%d -> %dx%d: horizontal sample %d is %d, the Go loop's %d", c.sw, c.sh, c.w, c.h, j, h16[0][j], h16[1][j])
			}
		}
		if !bytes.Equal(v8[0], v8[1]) {
			t.Errorf("%dx%d -> %dx%d: the vertical kernel's output differs from the Go loop's", c.sw, c.sh, c.w, c.h)
		}
	}
}

// TestSIMDWeightLayout: forSIMD lays out every weight where its kernel
// reads it, and leaves the kernels off for weights beyond int16.
func TestSIMDWeightLayout(t *testing.T) {
	withSIMD(true, func() {
		ws := makeWeights(2016, 1920, 2016.0/1920, Lanczos3)
		ws.forSIMD(true)
		if ws.simd.k != 8 {
			t.Fatalf("k = %d, want 8 for %d taps", ws.simd.k, ws.taps)
		}
		order := [8]int{0, 4, 1, 5, 2, 6, 3, 7}
		for i := 0; i < 16; i++ {
			g, p := i/8*8, i%8
			out := g + order[p]
			for tp := 0; tp < ws.taps; tp++ {
				if got, want := ws.simd.h[i*8+tp], int16(ws.w[out*ws.taps+tp]); got != want {
					t.Fatalf("slot %d tap %d: %d, want %d", i, tp, got, want)
				}
			}
		}
		big := weights{start: []int{0}, taps: 1, w: []int32{1 << 16}}
		big.forSIMD(true)
		big.forSIMD(false)
		if big.simd.k != 0 || big.simd.vpairs != nil {
			t.Fatalf("weights beyond int16 went to the kernels: %+v", big.simd)
		}
	})
}

// hPlane is the horizontal pass over every row of src into a whole plane
// of w-sample rows, the intermediate fused16 does without.
func hPlane(src plane, wx weights, w int) []uint16 {
	mid := make([]uint16, w*src.h)
	for y := 0; y < src.h; y++ {
		horizontal16Row(src, y, mid[y*w:(y+1)*w], &wx)
	}
	return mid
}

// TestFusedMatchesTwoPasses: fused16's sliding window gives the bytes of
// the two passes over a whole intermediate plane, with the kernels on and
// off, for ratios where the window slides often, rarely, and where one
// output row's taps are wider than the window.
func TestFusedMatchesTwoPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ sw, sh, w, h int }{
		{300, 700, 143, 333}, {64, 2000, 30, 9}, {97, 500, 97, 480}, {50, 90, 20, 89},
	} {
		pix := make([]uint8, c.sw*c.sh)
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		src := plane{pix: pix, stride: c.sw, w: c.sw, h: c.sh}
		for _, on := range []bool{true, false} {
			withSIMD(on, func() {
				wx := makeWeights(c.sw, c.w, float64(c.sw)/float64(c.w), Lanczos3)
				wx.forSIMD(true)
				wy := makeWeights(c.sh, c.h, float64(c.sh)/float64(c.h), Lanczos3)
				wy.forSIMD(false)
				mid := hPlane(src, wx, c.w)
				want := make([]uint8, c.w*c.h)
				acc := make([]int32, c.w)
				for y := 0; y < c.h; y++ {
					vertical16Row(mid[wy.start[y]*c.w:], c.w, want[y*c.w:(y+1)*c.w], &wy, y, acc)
				}
				got := plane{pix: make([]uint8, c.w*c.h), stride: c.w, w: c.w, h: c.h}
				fused16(src, got, wx, wy, 0, c.h/3)
				fused16(src, got, wx, wy, c.h/3, c.h) // two bands, as parallel cuts them
				if !bytes.Equal(got.pix, want) {
					t.Errorf("%+v, kernels %v: fused16 differs from the two passes", c, on)
				}
			})
		}
	}
}
