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
// (Package variables set by functions rather than init, so that the
// kernels' constants, which derive from them, are initialised after them.)
var basis = func() (basis [9][]int32) {
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
	return basis
}()

// idctFunc transforms blk into an n x n block of dst. No version writes
// blk; the callers clear it for the next block.
type idctFunc func(blk *[64]int32, dst []uint8, stride int)

func idctFor(n int) idctFunc {
	switch n {
	case 8:
		if useSIMD {
			return idct8SIMD
		}
		return idct8
	case 4:
		if useSIMD {
			return idct4SIMD
		}
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

// idct8 is idctN for n = 8 split into even and odd halves: the even
// coefficients make a 4-point transform (idct4's butterfly), the odd ones a
// 4x4 product, 22 multiplies per pass instead of 64 (luma at full size).
func idct8(blk *[64]int32, dst []uint8, stride int) {
	const (
		k0 = 1448 // 0.5/sqrt2 * 2^12
		k1 = 1892 // 0.5*cos(pi/8) * 2^12
		k3 = 784  // 0.5*cos(3pi/8) * 2^12
	)
	o := &odd8
	var t [64]int32
	for v := 0; v < 8; v++ {
		r := blk[v*8 : v*8+8 : v*8+8]
		tr := t[v*8 : v*8+8 : v*8+8]
		if r[1]|r[2]|r[3]|r[4]|r[5]|r[6]|r[7] == 0 {
			dc := (r[0]*k0 + 1<<(rowShift-1)) >> rowShift
			for x := range tr {
				tr[x] = dc
			}
			continue
		}
		a, c := k0*(r[0]+r[4]), k0*(r[0]-r[4])
		b, d := k1*r[2]+k3*r[6], k3*r[2]-k1*r[6]
		e0, e1, e2, e3 := a+b, c+d, c-d, a-b
		r1, r3, r5, r7 := r[1], r[3], r[5], r[7]
		o0 := o[0]*r1 + o[1]*r3 + o[2]*r5 + o[3]*r7
		o1 := o[4]*r1 + o[5]*r3 + o[6]*r5 + o[7]*r7
		o2 := o[8]*r1 + o[9]*r3 + o[10]*r5 + o[11]*r7
		o3 := o[12]*r1 + o[13]*r3 + o[14]*r5 + o[15]*r7
		const round = 1 << (rowShift - 1)
		tr[0], tr[7] = (e0+o0+round)>>rowShift, (e0-o0+round)>>rowShift
		tr[1], tr[6] = (e1+o1+round)>>rowShift, (e1-o1+round)>>rowShift
		tr[2], tr[5] = (e2+o2+round)>>rowShift, (e2-o2+round)>>rowShift
		tr[3], tr[4] = (e3+o3+round)>>rowShift, (e3-o3+round)>>rowShift
	}
	const bias = 128<<colShift + 1<<(colShift-1)
	_ = dst[7*stride+7]
	for x := 0; x < 8; x++ {
		r0, r1, r2, r3 := t[x], t[8+x], t[16+x], t[24+x]
		r4, r5, r6, r7 := t[32+x], t[40+x], t[48+x], t[56+x]
		a, c := k0*(r0+r4), k0*(r0-r4)
		b, d := k1*r2+k3*r6, k3*r2-k1*r6
		e0, e1, e2, e3 := a+b+bias, c+d+bias, c-d+bias, a-b+bias
		o0 := o[0]*r1 + o[1]*r3 + o[2]*r5 + o[3]*r7
		o1 := o[4]*r1 + o[5]*r3 + o[6]*r5 + o[7]*r7
		o2 := o[8]*r1 + o[9]*r3 + o[10]*r5 + o[11]*r7
		o3 := o[12]*r1 + o[13]*r3 + o[14]*r5 + o[15]*r7
		dst[x] = clamp((e0 + o0) >> colShift)
		dst[7*stride+x] = clamp((e0 - o0) >> colShift)
		dst[stride+x] = clamp((e1 + o1) >> colShift)
		dst[6*stride+x] = clamp((e1 - o1) >> colShift)
		dst[2*stride+x] = clamp((e2 + o2) >> colShift)
		dst[5*stride+x] = clamp((e2 - o2) >> colShift)
		dst[3*stride+x] = clamp((e3 + o3) >> colShift)
		dst[4*stride+x] = clamp((e3 - o3) >> colShift)
	}
}

// odd8[x*4+j] is basis[8] at output x and odd frequency 2j+1.
var odd8 = func() (odd8 [16]int32) {
	for x := 0; x < 4; x++ {
		for j := 0; j < 4; j++ {
			odd8[x*4+j] = basis[8][x*8+2*j+1]
		}
	}
	return odd8
}()

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
