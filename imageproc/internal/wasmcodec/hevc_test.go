package wasmcodec

import (
	"math"
	"testing"
)

// TestPlaneLen: a plane's span from the module's numbers, refused when a
// row overruns its stride or the span passes 4 GiB, products that would
// wrap included.
func TestPlaneLen(t *testing.T) {
	const max32 = math.MaxUint32
	for _, c := range []struct {
		name               string
		stride, w, h, d, n int
		ok                 bool
	}{
		{"8-bit tile", 576, 512, 512, 8, 576*511 + 512, true},
		{"16-bit samples", 1024, 512, 2, 10, 1024 + 1024, true},
		{"one row", 100, 100, 1, 8, 100, true},
		{"row over its stride", 511, 512, 2, 8, 0, false},
		{"16-bit row over its stride", 1000, 512, 2, 16, 0, false},
		{"span over 4 GiB", 1 << 20, 1 << 20, 1 << 13, 8, 0, false},
		{"just 4 GiB", 1 << 16, 1<<16 - 1, 1 << 16, 8, max32, true},
		{"product wraps int64", max32, max32, max32, 8, 0, false},
		{"wraps to a small number", max32, 1<<32 - 2, 1<<32 - 1, 16, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, ok := planeLen(c.stride, c.w, c.h, c.d)
			if ok != c.ok || ok && n != c.n {
				t.Errorf("planeLen(%d, %d, %d, %d) = %d, %v, want %d, %v", c.stride, c.w, c.h, c.d, n, ok, c.n, c.ok)
			}
		})
	}
}
