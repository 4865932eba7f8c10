//go:build !amd64

package jpegx

// useSIMD is false where no kernels are written: the Go code does all.
var useSIMD = false

func idct8SIMD(blk *[64]int32, dst []uint8, stride int) { idct8(blk, dst, stride) }
