// Package workers runs the parts of one image job on several goroutines.
// A panic nobody recovers on its own goroutine ends the whole process, and
// the handler's recover covers only the goroutine that called Process: so
// every goroutine imageproc starts starts here, and a panic in one comes
// back to the caller as a *PanicError (a 500 answer for that request),
// never a dead instance with every other request on it.
package workers

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// PanicError is a panic recovered on a worker goroutine.
type PanicError struct {
	Value any
	Stack []byte // the worker's stack where it panicked
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("a worker goroutine panicked: %v\n%s", e.Value, e.Stack)
}

// Split runs fn over [0, n) cut into parts bands of consecutive indexes,
// each on its own goroutine but the first, which runs on the caller's. It
// returns when every band is done; a panic in any band (the caller's
// included) is returned as a *PanicError instead of unwinding.
func Split(n, parts int, fn func(lo, hi int)) error {
	if n <= 0 {
		return nil
	}
	parts = max(1, min(parts, n))
	step := (n + parts - 1) / parts
	errs := make([]error, 0, parts)
	var mu sync.Mutex
	var wg sync.WaitGroup
	band := func(lo, hi int) {
		defer func() {
			if p := recover(); p != nil {
				mu.Lock()
				errs = append(errs, &PanicError{Value: p, Stack: debug.Stack()})
				mu.Unlock()
			}
		}()
		fn(lo, hi)
	}
	for lo := step; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			band(lo, hi)
		}(lo, min(lo+step, n))
	}
	band(0, min(step, n))
	wg.Wait()
	return errors.Join(errs...)
}
