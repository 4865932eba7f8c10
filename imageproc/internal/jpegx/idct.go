package jpegx

import "math"

// The reduced inverse DCT: an n-point IDCT over the n x n lowest
// coefficients gives the block at 1/(8/n) scale with its average preserved
// (JPEG's IDCT normalisation, cosines at n points instead of 8).
//
// Fixed point: the basis is scaled by 2^basisBits; the row pass keeps
// two bits of fraction. Valid coefficients are bounded by 2^11, so the sums
// stay below 2^29; corrupt input may wrap, which only garbles pixels.
const (
	basisBits = 12
	rowShift  = 10 // row pass: 2^12 basis -> keep 2^2 fraction
	colShift  = basisBits + basisBits - rowShift
)

// basis[n][x*n+u] = C(u)/2 * cos((2x+1)u*pi/2n) * 2^basisBits
var basis [9][]int32

func init() {
	for _, n := range []int{1, 2, 4, 8} {
		b := make([]int32, n*n)
		for x := 0; x < n; x++ {
			for u := 0; u < n; u++ {
				c := 0.5
				if u == 0 {
					c = 0.5 / math.Sqrt2
				}
				v := c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/float64(2*n))
				b[x*n+u] = int32(math.Round(v * (1 << basisBits)))
			}
		}
		basis[n] = b
	}
}

type idctFunc func(blk *[64]int32, dst []uint8, stride int)

func idctFor(n int) idctFunc {
	switch n {
	case 8:
		return idct8
	case 4:
		return idct4
	case 2:
		return idct2
	}
	return func(blk *[64]int32, dst []uint8, stride int) { fillDC(blk[0], dst, stride, 1) }
}

// fillDC writes a block whose only coefficient is the DC.
func fillDC(dc int32, dst []uint8, stride, n int) {
	v := clamp((dc + 128*8 + 4) >> 3) // F00/8 + 128, rounded
	for y := 0; y < n; y++ {
		row := dst[y*stride : y*stride+n]
		for x := range row {
			row[x] = v
		}
	}
}

func clamp(v int32) uint8 {
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// idctN is the generic separable n x n transform.
func idctN(blk *[64]int32, dst []uint8, stride, n int) {
	b := basis[n]
	var tmp [64]int32 // tmp[v*8+x]: row pass over u
	for v := 0; v < n; v++ {
		row := blk[v*8 : v*8+n]
		zero := true
		for _, c := range row[1:] {
			if c != 0 {
				zero = false
				break
			}
		}
		if zero {
			dc := (row[0]*b[0] + 1<<(rowShift-1)) >> rowShift // b[x*n+0] is the same for all x
			for x := 0; x < n; x++ {
				tmp[v*8+x] = dc
			}
			continue
		}
		for x := 0; x < n; x++ {
			bx := b[x*n : x*n+n]
			var s int32
			for u, c := range row {
				s += c * bx[u]
			}
			tmp[v*8+x] = (s + 1<<(rowShift-1)) >> rowShift
		}
	}
	const bias = 128<<colShift + 1<<(colShift-1)
	for y := 0; y < n; y++ {
		by := b[y*n : y*n+n]
		out := dst[y*stride : y*stride+n]
		for x := 0; x < n; x++ {
			var s int32
			for v := 0; v < n; v++ {
				s += by[v] * tmp[v*8+x]
			}
			out[x] = clamp((s + bias) >> colShift)
		}
	}
}

func idct8(blk *[64]int32, dst []uint8, stride int) { idctN(blk, dst, stride, 8) }

// idct4 is idctN for n = 4 with the even/odd butterfly: 6 multiplies per
// 4-point pass instead of 16 (the 1/2-scale path of the standard job).
func idct4(blk *[64]int32, dst []uint8, stride int) {
	const (
		k0 = 1448 // 0.5/sqrt2 * 2^12
		k1 = 1892 // 0.5*cos(pi/8) * 2^12
		k3 = 784  // 0.5*cos(3pi/8) * 2^12
	)
	var t [16]int32
	for v := 0; v < 4; v++ {
		r := blk[v*8 : v*8+4 : v*8+4]
		r0, r1, r2, r3 := r[0], r[1], r[2], r[3]
		a, c := k0*(r0+r2), k0*(r0-r2)
		b, d := k1*r1+k3*r3, k3*r1-k1*r3
		const round = 1 << (rowShift - 1)
		t[v*4+0] = (a + b + round) >> rowShift
		t[v*4+1] = (c + d + round) >> rowShift
		t[v*4+2] = (c - d + round) >> rowShift
		t[v*4+3] = (a - b + round) >> rowShift
	}
	const bias = 128<<colShift + 1<<(colShift-1)
	_ = dst[3*stride+3]
	for x := 0; x < 4; x++ {
		r0, r1, r2, r3 := t[x], t[4+x], t[8+x], t[12+x]
		a, c := k0*(r0+r2), k0*(r0-r2)
		b, d := k1*r1+k3*r3, k3*r1-k1*r3
		dst[x] = clamp((a + b + bias) >> colShift)
		dst[stride+x] = clamp((c + d + bias) >> colShift)
		dst[2*stride+x] = clamp((c - d + bias) >> colShift)
		dst[3*stride+x] = clamp((a - b + bias) >> colShift)
	}
}
func idct2(blk *[64]int32, dst []uint8, stride int) { idctN(blk, dst, stride, 2) }
