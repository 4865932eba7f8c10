package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"picbed/handler/admission"
	"picbed/imageproc"
)

// retryAfter is what a 503 from memory admission tells clients: long
// enough for a large photo ahead of them to finish.
const retryAfter = 2

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
// processing time limit. On a timeout or an abandoned request the stage's
// context is done, which stops Process at its next check (between steps,
// per row of the JPEG decoder, per HEIC grid tile); the request answers
// at once, while the reservation is released only when Process has really
// returned: the budget stays true to what is allocated.
func (h *Handler) process(ctx context.Context, data []byte, hdr imageproc.Header, rc imageproc.Recipe) (imageproc.Result, error) {
	ctx, cancel := h.limits.stage(ctx, h.limits.process)
	defer cancel()
	release, err := h.admit.Acquire(ctx, admission.Estimate(hdr, len(data)), h.limits.admitWait)
	if errors.Is(err, admission.ErrOverloaded) {
		return imageproc.Result{}, &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", RetryAfter: retryAfter,
			Message: "picbed is busy processing other images; retry in a few seconds", Err: err}
	}
	if err != nil {
		return imageproc.Result{}, err
	}
	type outcome struct {
		res imageproc.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.err = fmt.Errorf("imageproc panicked: %v\n%s", p, debug.Stack())
			}
			release() // before the answer: whoever reads done sees the budget free
			done <- o
		}()
		o.res, o.err = h.pipeline(ctx, data, rc)
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return imageproc.Result{}, fmt.Errorf("processing %dx%d %s: %w", hdr.Width, hdr.Height, hdr.Format, ctx.Err())
	}
}
