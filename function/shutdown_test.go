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
	"syscall"
	"testing"
	"time"

	"picbed/tools/localserver"
)

// heldBody hands out a photo in small pieces, like a phone on a bad
// network, but only once released: the upload stays in flight for as long
// as the test needs, whatever the machine's speed. started is closed when
// the transport first reads it, which (with Expect: 100-continue) is only
// after the server's handler has begun reading the body.
type heldBody struct {
	data    []byte
	started chan struct{}
	resume  chan struct{}
	n       int
}

func (b *heldBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, io.EOF
	}
	if b.n == 0 {
		close(b.started)
		<-b.resume
	}
	b.n++
	k := copy(p[:min(len(p), 8<<10)], b.data)
	b.data = b.data[k:]
	return k, nil
}

// TestGracefulShutdown starts the real binary, begins an upload, sends
// SIGTERM while the server is reading its body, and checks that new
// connections are refused while the upload is still in flight, that the
// upload then completes with a link that was written, and that the
// process exits 0. Every step waits for an event, not for time.
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
	body := &heldBody{data: photo, started: make(chan struct{}), resume: make(chan struct{})}
	req, _ := http.NewRequest("POST", srv.URL+"/upload", body)
	req.ContentLength = int64(len(photo))
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Content-Type", "image/jpeg")
	// The body goes out only when the handler asks for it (100 Continue):
	// by then the server has accepted the connection and read the headers.
	// The minute is a hang guard; the body is sent anyway after it.
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b, err}
	}()

	select {
	case <-body.started:
	case a := <-done:
		t.Fatalf("the upload ended before its body was asked for: %d %s %v", a.status, a.body, a.err)
	}
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while the upload is still in flight (its
	// body is held until then). A minute of accepting is a failure.
	refused := false
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), time.Minute)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Errorf("the server kept accepting connections after SIGTERM while an upload was in flight")
	}
	close(body.resume)

	a := <-done
	if a.err != nil || a.status != 200 {
		t.Fatalf("in-flight upload = %d %s %v, want 200", a.status, a.body, a.err)
	}
	var u struct{ Key string }
	if err := json.Unmarshal(a.body, &u); err != nil || u.Key == "" {
		t.Fatalf("answer %s: %v", a.body, err)
	}
	code, err := srv.Wait(time.Minute) // a hang guard
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
