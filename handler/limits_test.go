package handler

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"picbed/handler/admission"
	"picbed/imageproc"
	"picbed/storage"
	"picbed/tools/hostile"
)

func TestStageHonoursTheRequestDeadline(t *testing.T) {
	l := timeLimits{process: time.Minute, margin: time.Second}
	parent, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx, cancel2 := l.stage(parent, l.process)
	defer cancel2()
	pd, _ := parent.Deadline()
	cd, _ := ctx.Deadline()
	if !cd.Before(pd.Add(-l.margin + time.Millisecond)) {
		t.Errorf("stage deadline %v, want at least the margin before the request's %v", cd, pd)
	}
	ctx3, cancel3 := l.stage(context.Background(), 5*time.Second)
	defer cancel3()
	if d, ok := ctx3.Deadline(); !ok || time.Until(d) > 5*time.Second {
		t.Errorf("stage without a parent deadline = %v, want at most 5s", d)
	}
	// a parent already past its margin still gets a (tiny) context, not a panic
	late, cancel4 := context.WithTimeout(context.Background(), l.margin/2)
	defer cancel4()
	ctx5, cancel5 := l.stage(late, time.Minute)
	defer cancel5()
	if d, _ := ctx5.Deadline(); time.Until(d) > l.margin {
		t.Errorf("late stage deadline too far: %v", time.Until(d))
	}
}

// TestUploadWaitsForMemory fills the budget and checks that an upload
// waits, is refused with 503 + Retry-After when nothing frees up, succeeds
// when memory is released, and that a dedupe hit needs no memory at all.
func TestUploadWaitsForMemory(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	s.h.admit = admission.New(64 << 20)
	s.h.limits.admitWait = 50 * time.Millisecond
	hold, err := s.h.admit.Acquire(context.Background(), 64<<20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	phone := fixture(t, "phone.jpg")
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("upload with no memory = %d (Retry-After %q) %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if code, _ := errorBody(t, body); code != "overloaded" {
		t.Errorf("error = %q, want overloaded", code)
	}
	if got := objects(t, s.dir); len(got) != 0 {
		t.Errorf("objects after a refusal: %v", got)
	}

	s.h.limits.admitWait = time.Minute
	go func() { // release only once the upload waits for memory
		for s.h.admit.Waiting() == 0 {
			time.Sleep(time.Millisecond) // a poll: the order, not the time, matters
		}
		hold()
	}()
	resp, body = s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 200 {
		t.Fatalf("upload after memory was released = %d %s, want 200", resp.StatusCode, body)
	}
	if s.h.admit.InUse() != 0 {
		t.Errorf("reservation leaked: %d bytes in use", s.h.admit.InUse())
	}

	hold, _ = s.h.admit.Acquire(context.Background(), 64<<20, time.Second)
	defer hold()
	s.h.limits.admitWait = 10 * time.Millisecond
	resp, body = s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 200 || !decodeUploaded(t, body).Deduplicated {
		t.Errorf("dedupe hit with the budget full = %d %s, want 200 deduplicated", resp.StatusCode, body)
	}
}

// faultyStore wraps the real store with injected failures.
type faultyStore struct {
	Store
	putFailures  atomic.Int32 // the next n Puts fail
	statErr      error
	blockPut     bool // Put waits for its context to end
	lastDeadline atomic.Value
}

func (f *faultyStore) Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error {
	if d, ok := ctx.Deadline(); ok {
		f.lastDeadline.Store(d)
	}
	if f.blockPut {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.putFailures.Add(-1) >= 0 {
		return errors.New("connection reset by peer")
	}
	return f.Store.Put(ctx, key, data, o)
}

func (f *faultyStore) Stat(ctx context.Context, key string) (storage.Object, error) {
	if f.statErr != nil {
		return storage.Object{}, f.statErr
	}
	return f.Store.Stat(ctx, key)
}

func TestStorageFaults(t *testing.T) {
	phone := fixture(t, "phone.jpg")
	clean := newTestServer(t, serverOpts{})
	_, body := clean.send(t, clean.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	wantKey := decodeUploaded(t, body).Key

	tests := []struct {
		name   string
		fault  func(*faultyStore)
		status int
		code   string
		retry  bool // the answer carries Retry-After
	}{
		{"put fails", func(f *faultyStore) { f.putFailures.Store(1) }, 502, "storage_failed", false},
		{"put times out", func(f *faultyStore) { f.blockPut = true }, 503, "storage_timeout", true},
		{"stat fails", func(f *faultyStore) { f.statErr = errors.New("dial tcp: i/o timeout") }, 502, "storage_failed", false},
		{"stat denied", func(f *faultyStore) {
			f.statErr = &storage.Error{Status: 502, Message: "OSS refused picbed's credentials (AccessDenied)"}
		}, 502, "upstream_failed", false},
		{"stat slow", func(f *faultyStore) { f.statErr = context.DeadlineExceeded }, 503, "storage_timeout", true},
		{"OSS 5xx", func(f *faultyStore) {
			f.statErr = &storage.Error{Status: 503, Message: "OSS failed the stat (500 InternalError); try again in a few seconds"}
		}, 503, "storage_unavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs *faultyStore
			s := newTestServer(t, serverOpts{wrap: func(l *storage.Local) Store { fs = &faultyStore{Store: l}; return fs }})
			s.h.limits.storage = 50 * time.Millisecond
			tt.fault(fs)
			resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			code, msg := errorBody(t, body)
			if code != tt.code || msg == "" {
				t.Errorf("error = %q %q, want %q", code, msg, tt.code)
			}
			if (resp.Header.Get("Retry-After") != "") != tt.retry {
				t.Errorf("Retry-After = %q, want present=%v", resp.Header.Get("Retry-After"), tt.retry)
			}
			if got := objects(t, s.dir); len(got) != 0 {
				t.Errorf("objects after a storage failure: %v", got)
			}
			// the fault clears; the retried upload gets the same key
			fs.blockPut, fs.statErr = false, nil
			resp, body = s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
			if resp.StatusCode != 200 {
				t.Fatalf("retry = %d %s, want 200", resp.StatusCode, body)
			}
			if u := decodeUploaded(t, body); u.Key != wantKey || u.Deduplicated {
				t.Errorf("retry key %q (dedup %v), want %q, fresh", u.Key, u.Deduplicated, wantKey)
			}
		})
	}
}

// TestRequestDeadlineWins serves a request whose context (like FC's
// invocation) ends sooner than the storage limit: the store must see the
// request's deadline less the margin.
func TestRequestDeadlineWins(t *testing.T) {
	var fs *faultyStore
	s := newTestServer(t, serverOpts{wrap: func(l *storage.Local) Store { fs = &faultyStore{Store: l}; return fs }})
	s.h.limits = timeLimits{admitWait: time.Second, process: time.Hour, storage: time.Hour, margin: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the upload must succeed: no slack asked of it
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "POST", "/upload", bytes.NewReader(hostile.SmallPNG(5, 5)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status = %d %s", rec.Code, rec.Body)
	}
	seen, _ := fs.lastDeadline.Load().(time.Time)
	reqDeadline, _ := ctx.Deadline()
	if seen.IsZero() || seen.After(reqDeadline.Add(-200*time.Millisecond)) {
		t.Errorf("store saw deadline %v, want at or before %v (the request's, less the margin)", seen, reqDeadline.Add(-200*time.Millisecond))
	}
}

// TestConcurrentIdenticalUploads sends the same photo from many clients at
// once: all succeed, with one key and one object.
func TestConcurrentIdenticalUploads(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	phone := fixture(t, "phone.jpg")
	const n = 6
	keys := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(phone))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "image/jpeg")
			resp, err := s.Client().Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			var u Uploaded
			if jsonDecode(resp.Body, &u) == nil {
				keys[i] = u.Key
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 200 || keys[i] == "" || keys[i] != keys[0] {
			t.Errorf("client %d: %d key %q, want 200 with key %q", i, codes[i], keys[i], keys[0])
		}
	}
	if got := objects(t, s.dir); len(got) != 1 {
		t.Errorf("objects = %v, want one", got)
	}
	for _, f := range files(t, s.dir) {
		if bytes.Contains([]byte(f), []byte(".tmp-")) {
			t.Errorf("temp file left: %s", f)
		}
	}
}

// TestProcessingLimits makes the pipeline hang, then panic: the request
// answers 503 (timeout) or 500 (panic) without writing anything; on the
// timeout the work is told to stop (its context is done), the memory stays
// reserved while the work really runs, and is released when it returns.
func TestProcessingLimits(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	release := make(chan struct{})
	running := make(chan struct{}, 1)
	stopped := make(chan error, 1)
	s.h.pipeline = func(ctx context.Context, b []byte, r imageproc.Recipe) (imageproc.Result, error) {
		running <- struct{}{}
		<-ctx.Done() // the timeout reaches the work itself
		stopped <- ctx.Err()
		<-release // and the work still holds its memory until it returns
		return imageproc.Result{}, ctx.Err()
	}
	s.h.limits.process = 50 * time.Millisecond
	phone := fixture(t, "phone.jpg")
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("hung pipeline = %d %s, want 503 with Retry-After", resp.StatusCode, body)
	}
	if code, _ := errorBody(t, body); code != "timeout" {
		t.Errorf("error = %q, want timeout", code)
	}
	<-running
	if err := <-stopped; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the work's context ended with %v, want DeadlineExceeded", err)
	}
	if s.h.admit.InUse() == 0 {
		t.Errorf("the work still running holds no memory reservation")
	}
	close(release)
	// the whole budget is admitted exactly when the work's reservation is gone
	all, err := s.h.admit.Acquire(context.Background(), 1<<62, time.Minute)
	if err != nil {
		t.Fatalf("the reservation was never released: %v", err)
	}
	all()
	if got := objects(t, s.dir); len(got) != 0 {
		t.Errorf("objects after a timeout: %v", got)
	}

	s.h.pipeline = func(context.Context, []byte, imageproc.Recipe) (imageproc.Result, error) { panic("decoder bug") }
	s.h.limits.process = time.Minute
	resp, body = s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if code, msg := errorBody(t, body); resp.StatusCode != 500 || code != "internal" || !strings.Contains(msg, resp.Header.Get("X-Request-Id")) {
		t.Errorf("panicking pipeline = %d %s, want 500 internal", resp.StatusCode, body)
	}
	if s.h.admit.InUse() != 0 {
		t.Errorf("a panic leaked %d reserved bytes", s.h.admit.InUse())
	}
	s.h.pipeline = imageproc.Process
	resp, _ = s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 200 {
		t.Errorf("upload after the faults = %d, want 200", resp.StatusCode)
	}
}

// TestAbandonedRequestStopsTheWork: a client that goes away while its
// image is processed cancels the work itself, and the memory reservation
// goes when the work has returned.
func TestAbandonedRequestStopsTheWork(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	running := make(chan struct{})
	stopped := make(chan error, 1)
	s.h.pipeline = func(ctx context.Context, b []byte, r imageproc.Recipe) (imageproc.Result, error) {
		close(running)
		<-ctx.Done()
		stopped <- ctx.Err()
		return imageproc.Result{}, ctx.Err()
	}
	cctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := s.newRequest(t, "POST", "/upload", bytes.NewReader(fixture(t, "phone.jpg")), "image/jpeg").WithContext(cctx)
	go func() {
		<-running
		cancel() // the client leaves while its image is being processed
	}()
	if resp, err := s.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the abandoned request got an answer: %d", resp.StatusCode)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the work's context ended with %v, want Canceled", err)
		}
	case <-time.After(time.Minute): // a bound for a failure, not a timing
		t.Fatal("the work went on after its client left")
	}
	all, err := s.h.admit.Acquire(context.Background(), 1<<62, time.Minute)
	if err != nil {
		t.Fatalf("the reservation was never released: %v", err)
	}
	all()
}

// TestProcessReleasesBeforeAnswering: when process returns, the work's
// memory reservation is already gone, for a result and for a panic alike
// (the release once ran after the answer was handed over, and a check
// right after the response saw the bytes still reserved).
func TestProcessReleasesBeforeAnswering(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	hdr := imageproc.Header{Format: "jpeg", Width: 4000, Height: 3000}
	for i := range 300 {
		if i%2 == 0 {
			s.h.pipeline = func(context.Context, []byte, imageproc.Recipe) (imageproc.Result, error) {
				return imageproc.Result{}, nil
			}
		} else {
			s.h.pipeline = func(context.Context, []byte, imageproc.Recipe) (imageproc.Result, error) { panic("decoder bug") }
		}
		_, err := s.h.process(context.Background(), make([]byte, 16), hdr, imageproc.Recipe{})
		if i%2 == 1 && err == nil {
			t.Fatalf("run %d: a panic returned no error", i)
		}
		if n := s.h.admit.InUse(); n != 0 {
			t.Fatalf("run %d: process returned with %d bytes still reserved", i, n)
		}
	}
}
