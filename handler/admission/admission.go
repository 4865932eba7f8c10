// Package admission is picbed's memory admission: it bounds the pixels being
// decoded at once, not the number of requests, because one 48 MP photo costs
// as much memory as fifty screenshots. Every image reserves an estimate of
// its working memory, computed from its header before any pixel is decoded,
// from a budget derived from the instance's memory; a request that does not
// fit waits a little, then is refused (the handler answers 503 with
// Retry-After) instead of letting the kernel kill the instance.
package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"picbed/imageproc"
)

// BytesPerPixel is the working memory reserved per source pixel: the decoded
// frame as RGBA (4 bytes) plus one full-size working copy (orientation,
// resize source, encoder input: 4 bytes). JPEG decodes to YCbCr at 1.5-3
// bytes and resizing only shrinks, so this is an upper bound for the common
// paths; the byte-level paths (pass-through, metadata strip) use far less.
const BytesPerPixel = 8

// MemoryOverheadMB is the part of the instance's memory not lent to image
// work: the Go runtime and binary, request bodies being read, the store's
// buffers and the garbage collector's headroom.
const MemoryOverheadMB = 128

// DefaultMemoryMB is the memory assumed when nothing says otherwise.
const DefaultMemoryMB = 1024

// minBudget keeps a tiny instance able to take at least a phone screenshot.
const minBudget = 64 << 20

// Budget is the number of bytes of image work admitted at once on an
// instance of memoryMB (0: DefaultMemoryMB).
func Budget(memoryMB int) int64 {
	mb := int64(memoryMB)
	if mb == 0 {
		mb = DefaultMemoryMB
	}
	return max((mb-MemoryOverheadMB)<<20, minBudget)
}

// Estimate is the memory an image of header hdr and n encoded bytes may
// need while it is processed: its pixels at BytesPerPixel, one byte per
// pixel for every further frame of an animation (paletted frames), plus
// the source and the output bytes.
func Estimate(hdr imageproc.Header, n int) int64 {
	px := int64(hdr.Width) * int64(hdr.Height)
	return px*BytesPerPixel + px*int64(max(hdr.Frames, 1)-1) + 2*int64(n)
}

// ErrOverloaded is returned (wrapped) by Acquire when the budget stayed
// full for the whole wait.
var ErrOverloaded = errors.New("admission: the memory budget stayed full")

// Limiter is a weighted semaphore over the memory budget. Waiters are
// woken on every release and re-check; with a handful of concurrent
// requests per instance that is cheaper than a queue.
type Limiter struct {
	budget int64

	mu      sync.Mutex
	used    int64
	waiting int           // Acquires blocked on a release
	changed chan struct{} // closed and replaced on every release
}

// New is a Limiter lending budget bytes.
func New(budget int64) *Limiter {
	return &Limiter{budget: budget, changed: make(chan struct{})}
}

// Acquire reserves n bytes, waiting up to wait (and never past ctx) for
// others to finish. An image larger than the whole budget is admitted only
// when nothing else runs. Call release when the memory is free again;
// calls after the first do nothing. The error wraps ErrOverloaded or is
// ctx's.
func (a *Limiter) Acquire(ctx context.Context, n int64, wait time.Duration) (release func(), err error) {
	n = min(n, a.budget)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		a.mu.Lock()
		if a.used+n <= a.budget {
			a.used += n
			a.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { a.release(n) }) }, nil
		}
		ch := a.changed
		a.waiting++
		a.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-timer.C:
			err = fmt.Errorf("%w: %d MiB wanted of the %d MiB budget", ErrOverloaded, n>>20, a.budget>>20)
		case <-ctx.Done():
			err = ctx.Err()
		}
		a.mu.Lock()
		a.waiting--
		a.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

func (a *Limiter) release(n int64) {
	a.mu.Lock()
	a.used -= n
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// Waiting is how many Acquires are blocked until memory is released.
func (a *Limiter) Waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.waiting
}

// InUse is the reserved memory.
func (a *Limiter) InUse() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}
