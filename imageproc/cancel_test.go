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
// (every iPhone photo) stops before its next tile once ctx is done: at
// once when it was done before, after the tiles under way when it is done
// in the middle.
func TestHEICGridStopsBetweenTiles(t *testing.T) {
	src := heifGrid(t, 3, 3, 960, 720, 960, 720) // tile by tile (more tiles sharing one HEVC item overrun the data budget)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := decodeHEIC(ctx, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("decodeHEIC with a cancelled context = %v, want context.Canceled before any tile", err)
	}

	full := &countdownCtx{Context: context.Background(), n: 1 << 62}
	if _, err := decodeHEIC(full, src); err != nil {
		t.Fatalf("the grid does not decode: %v", err)
	}
	if full.calls.Load() < 9 {
		t.Fatalf("a 9-tile grid looks at its context %d times, want once per tile", full.calls.Load())
	}
	const at = tileWorkers + 1 // each worker has started a tile
	stop := &countdownCtx{Context: context.Background(), n: at}
	if _, err := decodeHEIC(stop, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("decodeHEIC done after %d checks = %v, want context.Canceled", at, err)
	}
	if got := stop.calls.Load(); got > at+tileWorkers {
		t.Errorf("the grid looked at its context %d times after it was done (of %d in a whole grid): it went on", got-at, full.calls.Load())
	}
}
