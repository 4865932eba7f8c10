package resample

import "golang.org/x/sys/cpu"

// useSIMD selects the AVX2 kernels (simd_amd64.s); tests turn it off to
// compare them with the Go loops, which give the same bits.
var useSIMD = cpu.X86.HasAVX2

//go:noescape
func hRow16K16(in *uint8, starts *int32, wts *int16, out *uint16, n int)

//go:noescape
func hRow16K8(in *uint8, starts *int32, wts *int16, out *uint16, n int)

//go:noescape
func vRow16(src *uint16, stride int, wts *int32, taps int, out *uint8, n int)
