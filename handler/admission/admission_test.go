package admission

import (
	"context"
	"errors"
	"testing"
	"time"

	"picbed/imageproc"
)

func TestAdmission(t *testing.T) {
	a := New(100)
	r1, err := a.Acquire(context.Background(), 60, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.Acquire(context.Background(), 40, time.Second)
	if err != nil || a.InUse() != 100 {
		t.Fatalf("second acquire = %v, in use %d; want 100 in use", err, a.InUse())
	}
	// full: a third waits, then is refused
	_, err = a.Acquire(context.Background(), 1, 10*time.Millisecond)
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("acquire over budget = %v, want ErrOverloaded", err)
	}
	// a cancelled request stops waiting with its context's error
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Acquire(cctx, 1, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("acquire with a cancelled context = %v, want context.Canceled", err)
	}
	// a waiter is admitted when enough is released
	got := make(chan error, 1)
	go func() {
		r, err := a.Acquire(context.Background(), 50, time.Minute)
		if err == nil {
			r() // before answering: the check below must not race the release
		}
		got <- err
	}()
	r1()
	r1() // release is idempotent
	if err := <-got; err != nil {
		t.Errorf("waiter after release = %v, want admitted", err)
	}
	r2()
	if a.InUse() != 0 {
		t.Errorf("in use after every release = %d, want 0", a.InUse())
	}
	// larger than the whole budget: admitted alone, and only alone
	big, err := a.Acquire(context.Background(), 1000, time.Second)
	if err != nil {
		t.Fatalf("oversize alone = %v, want admitted", err)
	}
	if _, err := a.Acquire(context.Background(), 1, 10*time.Millisecond); err == nil {
		t.Errorf("something ran beside an oversize image")
	}
	big()
}

func TestEstimate(t *testing.T) {
	h := imageproc.Header{Format: imageproc.JPEG, Width: 4000, Height: 3000}
	if got, want := Estimate(h, 5<<20), int64(4000*3000*BytesPerPixel+10<<20); got != want {
		t.Errorf("Estimate(12 MP, 5 MiB) = %d, want %d", got, want)
	}
	gif := imageproc.Header{Format: imageproc.GIF, Width: 500, Height: 400, Frames: 3}
	if got, want := Estimate(gif, 1<<20), int64(500*400*BytesPerPixel+2*500*400+2<<20); got != want {
		t.Errorf("Estimate(3-frame GIF, 1 MiB) = %d, want %d (one byte per pixel per extra frame)", got, want)
	}
}
