package workers

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestSplitCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, parts int }{{0, 2}, {1, 2}, {5, 2}, {100, 3}, {7, 10}} {
		seen := make([]atomic.Int32, tc.n)
		if err := Split(tc.n, tc.parts, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i].Add(1)
			}
		}); err != nil {
			t.Fatal(err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d parts=%d: index %d ran %d times", tc.n, tc.parts, i, seen[i].Load())
			}
		}
	}
}

// TestSplitHandsBackPanics: a panic on a worker goroutine (which no
// recover in the caller could catch) and one on the caller's band both
// come back as a *PanicError, after every band has finished.
func TestSplitHandsBackPanics(t *testing.T) {
	for _, bad := range []int{0, 50} { // the caller's band, a worker's band
		var done atomic.Int32
		err := Split(100, 2, func(lo, hi int) {
			if lo <= bad && bad < hi {
				var m map[string]int
				m["boom"]++ // a real runtime panic: assignment to a nil map
			}
			done.Add(1)
		})
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value == nil || len(pe.Stack) == 0 {
			t.Fatalf("bad band at %d: err = %v, want a *PanicError with a stack", bad, err)
		}
		if done.Load() != 1 {
			t.Errorf("bad band at %d: %d healthy bands finished, want 1", bad, done.Load())
		}
	}
}
