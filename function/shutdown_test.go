package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"picbed/tools/localserver"
)

// slowBody hands out a photo in small pieces with pauses, like a phone on
// a bad network, and reports when the first piece has gone out.
type slowBody struct {
	data    []byte
	started chan struct{}
	n       int
	left    atomic.Int64 // bytes not yet handed out, read by the test
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	if s.n == 1 {
		close(s.started)
	}
	if s.n > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	s.n++
	k := copy(p[:min(len(p), 8<<10)], s.data)
	s.data = s.data[k:]
	s.left.Store(int64(len(s.data)))
	return k, nil
}

// TestGracefulShutdown starts the real binary, begins a slow upload, sends
// SIGTERM in the middle of it, and checks that the upload still completes
// with a link that was written, and that the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv, err := localserver.Start(binPath, t.TempDir()) // TestMain's build
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Cmd.Process.Kill()

	photo, err := os.ReadFile(filepath.Join("..", "testdata", "phone.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	body := &slowBody{data: photo, started: make(chan struct{})}
	req, _ := http.NewRequest("POST", srv.URL+"/upload", body)
	req.ContentLength = int64(len(photo))
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Content-Type", "image/jpeg")
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b, err}
	}()

	<-body.started
	time.Sleep(200 * time.Millisecond) // let the server accept the connection and read the headers
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if body.left.Load() == 0 {
		t.Fatal("the upload finished before SIGTERM: the test proves nothing")
	}
	// new connections are refused while the upload is still in flight
	refused := false
	for body.left.Load() > 0 && !refused {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Errorf("the server kept accepting connections after SIGTERM until the in-flight upload was sent")
	}

	a := <-done
	if a.err != nil || a.status != 200 {
		t.Fatalf("in-flight upload = %d %s %v, want 200", a.status, a.body, a.err)
	}
	var u struct{ Key string }
	if err := json.Unmarshal(a.body, &u); err != nil || u.Key == "" {
		t.Fatalf("answer %s: %v", a.body, err)
	}
	code, err := srv.Wait(30 * time.Second)
	if err != nil || code != 0 {
		t.Fatalf("exit code %d (%v), want 0\n%s", code, err, srv.Output())
	}
	stored, err := os.ReadFile(filepath.Join(srv.DataDir, filepath.FromSlash(u.Key)))
	if err != nil || len(stored) == 0 {
		t.Errorf("the upload's object %s: %v", u.Key, err)
	}
	if !bytes.Contains([]byte(srv.Output()), []byte("shutting down")) {
		t.Errorf("no shutdown message in the output:\n%s", srv.Output())
	}
	if _, err := http.Get(srv.URL + "/healthz"); err == nil {
		t.Errorf("the server still accepts connections after exiting")
	}
}
