package imageproc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// countdownCtx is a context that is done from its n-th Err call on: the
// work is stopped at a chosen check, with no clock involved, and calls
// counts how often the work looked.
type countdownCtx struct {
	context.Context
	n     int64
	calls atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.calls.Add(1) >= c.n {
		return context.Canceled
	}
	return nil
}

func TestProcessStopsWhenItsContextIsDone(t *testing.T) {
	src := fixture(t, "phone.jpg") // 1600x1200: shrunk on load by our decoder, row by row
	r := Recipe{Strip: true, MaxWidth: 400}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Process(ctx, src, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Process with a cancelled context = %v, want context.Canceled", err)
	}

	full := &countdownCtx{Context: context.Background(), n: 1 << 62}
	if _, err := Process(full, src, r); err != nil {
		t.Fatal(err)
	}
	const at = 10 // past the steps before decode, inside the decoder's rows
	if full.calls.Load() < at+40 {
		t.Fatalf("a whole run looks at its context %d times, want one per row of MCUs", full.calls.Load())
	}
	stop := &countdownCtx{Context: context.Background(), n: at}
	_, err := Process(stop, src, r)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "decoding") {
		t.Fatalf("Process stopped inside the decode = %v, want context.Canceled while decoding", err)
	}
	if got := stop.calls.Load(); got > at+3 {
		t.Errorf("the work looked at its context %d times after it was done (of %d in a whole run): it went on", got-at, full.calls.Load())
	}
}

// TestHEICGridStopsBetweenTiles: a codec call runs to its end, but a grid
// (every iPhone photo) stops before its next tile once ctx is done.
func TestHEICGridStopsBetweenTiles(t *testing.T) {
	src := heifGrid(t, 2, 2, 640, 480, 640, 480)
	if _, err := decodeHEIC(context.Background(), src); err != nil {
		t.Fatalf("the grid does not decode: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := decodeHEIC(ctx, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("decodeHEIC with a cancelled context = %v, want context.Canceled before any tile", err)
	}
}
