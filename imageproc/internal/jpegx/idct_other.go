//go:build !amd64

package jpegx

// useSIMD is false where no kernels are written: the Go code does all.
var useSIMD = false

func idct8SIMD(blk *[64]int32, dst []uint8, stride int) { idct8(blk, dst, stride) }

func idct4SIMD(blk *[64]int32, dst []uint8, stride int) { idct4(blk, dst, stride) }

func fdctQuant(src *[64]uint8, div *[64]float32, out *[64]int16) uint64 {
	return fdctQuantGo(src, div, out)
}
