package jpegx

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
)

// TestIDCT8SIMDMatchesGo: the AVX2 kernels write idct8's and idct4's bytes for random
// blocks: sparse ones like real photos' (zero rows, zero tails), dense
// ones, coefficients at the dequantised extremes (clamping both ways) and
// values past them (a corrupt file's, whose sums wrap the same way).
func TestIDCT8SIMDMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2 on this machine: only the Go code runs")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const stride = 19 // not a multiple of 8, and wider than the block
	for i := 0; i < 20000; i++ {
		var blk [64]int32
		switch i % 4 {
		case 0: // sparse: a few low frequencies
			for k := 0; k < rng.IntN(12); k++ {
				blk[rng.IntN(4)*8+rng.IntN(4)] = rng.Int32N(2048) - 1024
			}
		case 1: // dense
			for k := range blk {
				blk[k] = rng.Int32N(512) - 256
			}
		case 2: // extremes: 2^11 * 255 is the largest dequantised value
			for k := 0; k < rng.IntN(64); k++ {
				blk[rng.IntN(64)] = []int32{-2048 * 255, 2047 * 255, 1 << 20, -1 << 20}[rng.IntN(4)]
			}
		case 3: // DC only, or one row
			blk[0] = rng.Int32N(16384) - 8192
			if rng.IntN(2) == 0 {
				r := rng.IntN(8)
				for u := 0; u < 8; u++ {
					blk[r*8+u] = rng.Int32N(4096) - 2048
				}
			}
		}
		in := blk
		got := make([]uint8, 8*stride)
		want := make([]uint8, 8*stride)
		for j := range got {
			got[j], want[j] = 0xA5, 0xA5 // bytes outside the block stay
		}
		idct8SIMD(&blk, got, stride)
		b2 := in
		idct8(&b2, want, stride)
		if !bytes.Equal(got, want) {
			t.Fatalf("block %d %v:\nkernel %v\nGo     %v", i, in, got, want)
		}
		b2 = in // idct4 reads the 4x4 corner
		idct4SIMD(&b2, got, stride)
		b2 = in
		idct4(&b2, want, stride)
		if !bytes.Equal(got, want) {
			t.Fatalf("block %d %v, 4x4:\nkernel %v\nGo     %v", i, in, got, want)
		}
	}
}

// TestFDCTQuantSIMDMatchesGo: the AVX2 forward DCT and quantiser give
// fdctQuantGo's coefficients and mask for random blocks (noise, flat,
// extremes, gradients) and both quality tables, at low and high quality
// (clamping at +-1023 included).
func TestFDCTQuantSIMDMatchesGo(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2 on this machine: only the Go code runs")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, q := range []int{1, 50, 82, 100} {
		e := newEncoder(image.Rect(0, 0, 16, 16), q)
		for i := 0; i < 5000; i++ {
			var src [64]uint8
			for j := range src {
				switch i % 4 {
				case 0:
					src[j] = uint8(rng.IntN(256))
				case 1:
					src[j] = uint8(i)
				case 2:
					src[j] = uint8(255 * rng.IntN(2))
				case 3:
					src[j] = uint8(j*4 + rng.IntN(3))
				}
			}
			div := &e.div[i%2]
			var got, want [64]int16
			gm := fdctQuant(&src, div, &got) // the kernel, useSIMD being on
			wm := fdctQuantGo(&src, div, &want)
			if got != want || gm != wm {
				t.Fatalf("q%d block %v:\nkernel %v %x\nGo     %v %x", q, src, got, gm, want, wm)
			}
		}
	}
}

// TestCodecSameWithoutSIMD: the whole decoder (every scale, and the split
// decode) and the encoder give the same bytes with the kernels off as on,
// so the Go fallback, which machines without AVX2 run, is the tested code
// too, dispatch included.
func TestCodecSameWithoutSIMD(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2 on this machine: only the Go code runs")
	}
	defer func() { useSIMD = true }()
	all := fixtures(t)
	for k, v := range synthetic(t) {
		all[k] = v
	}
	for name, data := range all {
		t.Run(name, func(t *testing.T) {
			var planes [2][][]byte
			for i, on := range []bool{true, false} {
				useSIMD = on
				for _, s := range []int{1, 2, 4, 8} {
					m, err := Decode(context.Background(), data, s)
					if err != nil {
						t.Fatalf("scale %d, kernels %v: %v", s, on, err)
					}
					planes[i] = append(planes[i], pixOf(m)...)
					if s == 1 {
						if y, ok := m.(*image.YCbCr); ok && y.SubsampleRatio == image.YCbCrSubsampleRatio420 {
							b, err := EncodeYCbCr(y, 82)
							if err != nil {
								t.Fatal(err)
							}
							planes[i] = append(planes[i], b)
						}
						b, err := Encode(rgbaOf(m), 82)
						if err != nil {
							t.Fatal(err)
						}
						planes[i] = append(planes[i], b)
					}
				}
				if sp, err := DecodeSplit(context.Background(), data, 2, 4); err == nil { // 4:2:0 only
					planes[i] = append(planes[i], sp.Y.Pix, sp.Cb.Pix, sp.Cr.Pix)
				}
			}
			if len(planes[0]) != len(planes[1]) {
				t.Fatalf("%d outputs with the kernels, %d without", len(planes[0]), len(planes[1]))
			}
			for j := range planes[0] {
				if !bytes.Equal(planes[0][j], planes[1][j]) {
					t.Errorf("output %d differs between the kernels and the Go code", j)
				}
			}
		})
	}
}

// pixOf returns the sample slices of a decoded picture.
func pixOf(m image.Image) [][]byte {
	switch m := m.(type) {
	case *image.YCbCr:
		return [][]byte{m.Y, m.Cb, m.Cr}
	case *image.Gray:
		return [][]byte{m.Pix}
	}
	panic(fmt.Sprintf("unexpected %T", m))
}
