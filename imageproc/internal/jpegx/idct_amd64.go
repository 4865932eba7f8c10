package jpegx

import (
	"math"

	"golang.org/x/sys/cpu"
)

// useSIMD selects the AVX2 kernels (idct_amd64.s); tests turn it off to
// compare them with the Go code, which gives the same bits.
var useSIMD = cpu.X86.HasAVX2

// idctConsts are idct8AVX2's constants, eight copies of each (one per
// lane); the offsets are the assembly's.
type idctConsts [22][8]int32

//go:noescape
func idct8AVX2(blk *[64]int32, dst *uint8, stride int, k *idctConsts)

//go:noescape
func idct4AVX2(blk *[64]int32, dst *uint8, stride int, k *idctConsts)

var idct8Consts = func() *idctConsts {
	const k0, k1, k3 = 1448, 1892, 784 // idct8's
	k := new(idctConsts)
	set := func(i int, v int32) {
		for x := range k[i] {
			k[i][x] = v
		}
	}
	set(0, k0)
	set(1, k1)
	set(2, k3)
	for j := 0; j < 4; j++ { // o0, o1, o2 at 3.., o3 at 17..
		set(3+j, odd8[j])
		set(7+j, odd8[4+j])
		set(11+j, odd8[8+j])
		set(17+j, odd8[12+j])
	}
	set(15, 1<<(rowShift-1))
	set(16, 128<<colShift+1<<(colShift-1))
	k[21] = [8]int32{0, 4, 1, 5, 2, 6, 3, 7}
	return k
}()

// idct4SIMD is idct4 through the kernel.
func idct4SIMD(blk *[64]int32, dst []uint8, stride int) {
	_ = dst[3*stride+3]
	idct4AVX2(blk, &dst[0], stride, idct8Consts)
}

// idct8SIMD is idct8 through the kernel.
func idct8SIMD(blk *[64]int32, dst []uint8, stride int) {
	_ = dst[7*stride+7]
	idct8AVX2(blk, &dst[0], stride, idct8Consts)
}

// fdctConsts are fdctQuantAVX2's constants, eight copies of each (the
// float32 constants of fdct1, quantise's rounding and clamp).
type fdctConsts [9][8]uint32

//go:noescape
func fdctQuantAVX2(src *[64]uint8, div *[64]float32, out *[64]int16, k *fdctConsts) uint64

var fdctK = func() *fdctConsts {
	k := new(fdctConsts)
	lo, hi := int32(-1023), int32(1023)
	for i, v := range []uint32{
		math.Float32bits(128), math.Float32bits(0.707106781), math.Float32bits(0.382683433),
		math.Float32bits(0.541196100), math.Float32bits(1.306562965),
		0x80000000, 0x3f000000, uint32(hi), uint32(lo),
	} {
		for x := range k[i] {
			k[i][x] = v
		}
	}
	return k
}()

// fdctQuant is fdctQuantGo through the kernel.
func fdctQuant(src *[64]uint8, div *[64]float32, out *[64]int16) uint64 {
	if useSIMD {
		return fdctQuantAVX2(src, div, out, fdctK)
	}
	return fdctQuantGo(src, div, out)
}
