package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"picbed/imageproc"
)

// Memory admission: picbed bounds the pixels being decoded at once, not the
// number of requests, because one 48 MP photo costs as much memory as fifty
// screenshots. Every image reserves an estimate of its working memory,
// computed from its header before any pixel is decoded, from a budget
// derived from the instance's memory; a request that does not fit waits a
// little, then answers 503 with Retry-After instead of letting the kernel
// kill the instance.

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

// DefaultMemoryMB is the memory assumed when neither PICBED_MEMORY_MB,
// FC_FUNCTION_MEMORY_SIZE nor a cgroup limit says otherwise.
const DefaultMemoryMB = 1024

// minBudget keeps a tiny instance able to take at least a phone screenshot.
const minBudget = 64 << 20

// MemoryBudget is the number of bytes of image work admitted at once.
func (c Config) MemoryBudget() int64 {
	mb := int64(c.MemoryMB)
	if mb == 0 {
		mb = DefaultMemoryMB
	}
	return max((mb-MemoryOverheadMB)<<20, minBudget)
}

// defaultMemoryMB is the instance's memory: FC tells it in
// FC_FUNCTION_MEMORY_SIZE (MB); a container has its cgroup limit.
func defaultMemoryMB(getenv func(string) string) int64 {
	if n, err := strconv.ParseInt(strings.TrimSpace(getenv("FC_FUNCTION_MEMORY_SIZE")), 10, 64); err == nil && n > 0 {
		return n
	}
	if n := cgroupMemoryMB(); n > 0 {
		return n
	}
	return DefaultMemoryMB
}

// cgroupMemoryMB reads the cgroup v2 memory limit; 0 when there is none.
// A variable so that tests can pretend to run in a container.
var cgroupMemoryMB = func() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	return parseMemoryMax(string(b))
}

// parseMemoryMax reads cgroup v2's memory.max: bytes, or "max" for none.
// A limit so large it means none (some runtimes write 2^63-ish) is none.
func parseMemoryMax(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n >= 1<<50 {
		return 0
	}
	return n >> 20
}

// estimate is the memory an image of header hdr and n encoded bytes may
// need while it is processed: its pixels at BytesPerPixel, one byte per
// pixel for every further frame of an animation (paletted frames), plus
// the source and the output bytes.
func estimate(hdr imageproc.Header, n int) int64 {
	px := int64(hdr.Width) * int64(hdr.Height)
	return px*BytesPerPixel + px*int64(max(hdr.Frames, 1)-1) + 2*int64(n)
}

// admission is a weighted semaphore over the memory budget. Waiters are
// woken on every release and re-check; with a handful of concurrent
// requests per instance that is cheaper than a queue.
type admission struct {
	budget int64

	mu      sync.Mutex
	used    int64
	changed chan struct{} // closed and replaced on every release
}

func newAdmission(budget int64) *admission {
	return &admission{budget: budget, changed: make(chan struct{})}
}

// acquire reserves n bytes, waiting up to wait (and never past ctx) for
// others to finish. An image larger than the whole budget is admitted only
// when nothing else runs. Call release when the memory is free again;
// calls after the first do nothing.
func (a *admission) acquire(ctx context.Context, n int64, wait time.Duration) (release func(), err error) {
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
		a.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return nil, overloaded(n, a.budget)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (a *admission) release(n int64) {
	a.mu.Lock()
	a.used -= n
	close(a.changed)
	a.changed = make(chan struct{})
	a.mu.Unlock()
}

// inUse is the reserved memory (for tests).
func (a *admission) inUse() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.used
}

// retryAfter is what a 503 tells clients: long enough for a large photo
// ahead of them to finish.
const retryAfter = 2

func overloaded(n, budget int64) error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", RetryAfter: retryAfter,
		Message: "picbed is busy processing other images; retry in a few seconds",
		Err:     fmt.Errorf("admission: %d MiB wanted, the %d MiB budget stayed full", n>>20, budget>>20)}
}

// timeLimits bound each stage of a request. A request's own deadline (FC's
// invocation deadline arrives in the context) wins when it is sooner, less
// a margin to write the answer.
type timeLimits struct {
	admitWait time.Duration // waiting for memory
	process   time.Duration // imageproc.Process of one image
	storage   time.Duration // one storage call
	margin    time.Duration // kept before the request's own deadline
}

var defaultTimeLimits = timeLimits{
	admitWait: 2 * time.Second,
	process:   60 * time.Second,
	storage:   30 * time.Second,
	margin:    500 * time.Millisecond,
}

// stage derives the context for one stage: at most d, and ending margin
// before the parent's deadline.
func (l timeLimits) stage(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	now := time.Now()
	end := now.Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-l.margin).Before(end) {
		end = dl.Add(-l.margin)
		if end.Before(now) {
			end = now.Add(time.Millisecond) // fails fast, with a timeout the client understands
		}
	}
	return context.WithDeadline(ctx, end)
}

// process runs imageproc.Process under the memory budget and the
// processing time limit. Process cannot be interrupted, so on a timeout the
// request answers 503 while the work finishes in the background, still
// holding its reservation: the budget stays true to what is allocated.
func (h *Handler) process(ctx context.Context, data []byte, hdr imageproc.Header, rc imageproc.Recipe) (imageproc.Result, error) {
	ctx, cancel := h.limits.stage(ctx, h.limits.process)
	defer cancel()
	release, err := h.admit.acquire(ctx, estimate(hdr, len(data)), h.limits.admitWait)
	if err != nil {
		return imageproc.Result{}, err
	}
	type outcome struct {
		res imageproc.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer release()
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("imageproc panicked: %v\n%s", p, debug.Stack())}
			}
		}()
		res, err := h.pipeline(data, rc)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return imageproc.Result{}, fmt.Errorf("processing %dx%d %s: %w", hdr.Width, hdr.Height, hdr.Format, ctx.Err())
	}
}

// storageError turns a failed storage call into what the client sees: the
// store's own status when it has one, 503 on a timeout, else 502. It never
// becomes a 500: the bug, if any, is not ours.
func storageError(err error) error {
	var se statusError
	var e *Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.As(err, &se) && se.HTTPStatus() == http.StatusServiceUnavailable:
		return &Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable", RetryAfter: 5, Message: se.PublicMessage(), Err: err}
	case errors.As(err, &se):
		return err
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: "storage_timeout", RetryAfter: 5,
			Message: "the storage did not answer in time; retry the upload", Err: err}
	}
	return &Error{Status: http.StatusBadGateway, Code: "storage_failed",
		Message: "the storage failed; retry the upload (it is safe: the same image gets the same link)", Err: err}
}

// SetMemoryLimit tells the garbage collector the instance's memory, so the
// heap is collected before it outgrows the instance (GOMEMLIMIT, when set,
// wins). It changes the whole process, so main calls it once, not New.
func SetMemoryLimit(c Config) {
	if os.Getenv("GOMEMLIMIT") == "" && c.MemoryMB > 0 {
		debug.SetMemoryLimit(int64(c.MemoryMB) << 20 * 9 / 10)
	}
}
