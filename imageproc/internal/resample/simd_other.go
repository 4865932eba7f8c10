//go:build !amd64

package resample

// useSIMD is false where no kernels are written: the Go loops do all.
var useSIMD = false

func hRow16K16(in *uint8, starts *int32, wts *int16, out *uint16, n int) { panic("no SIMD kernels") }

func hRow16K8(in *uint8, starts *int32, wts *int16, out *uint16, n int) { panic("no SIMD kernels") }

func vRow16(src *uint16, stride int, wts *int32, taps int, out *uint8, n int) {
	panic("no SIMD kernels")
}
