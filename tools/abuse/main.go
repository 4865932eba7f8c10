// Command abuse runs picbed's bad-input suite (package tools/hostile)
// against a live local server: each case must get its status and JSON error
// body, write no object (or exactly one with a safe key, for hostile file
// names), and leave /healthz answering. It also sends identical uploads
// concurrently (one object, every client answered). Exit status 1 when any
// case fails.
//
//	go run ./tools/abuse                 # builds picbed, starts it, runs the suite
//	go run ./tools/abuse -url http://127.0.0.1:9000 -token T -data ./data
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"picbed/tools/hostile"
	"picbed/tools/localserver"
)

const maxBytes = 1 << 20 // PICBED_MAX_BYTES of the server this tool starts

func main() {
	url := flag.String("url", "", "a running picbed (default: build and start one)")
	token := flag.String("token", "", "its upload token (with -url)")
	data := flag.String("data", "", "its data directory, to check that nothing is written (with -url)")
	max := flag.Int64("max-bytes", maxBytes, "its PICBED_MAX_BYTES (with -url)")
	photo := flag.String("photo", "testdata/phone.jpg", "a real JPEG")
	flag.Parse()

	jpeg, err := os.ReadFile(*photo)
	if err != nil {
		fail("%v (run from the repository root)", err)
	}
	target := &localserver.Server{URL: *url, Token: *token, DataDir: *data}
	if *url == "" {
		dir, err := os.MkdirTemp("", "picbed-abuse-")
		if err != nil {
			fail("%v", err)
		}
		defer os.RemoveAll(dir)
		bin, err := localserver.Build(dir)
		if err != nil {
			fail("%v", err)
		}
		target, err = localserver.Start(bin, dir, "PICBED_MAX_BYTES=1048576", "PICBED_KEY_TEMPLATE=img/{name}-{hash:12}.{ext}")
		if err != nil {
			fail("%v", err)
		}
		defer target.Stop()
		*max = maxBytes
	} else if *token == "" || *data == "" {
		fail("-url needs -token and -data")
	}

	client := &http.Client{Timeout: 60 * time.Second}
	cases := hostile.Cases(*max, jpeg, target.Token)
	failed := 0
	for _, c := range cases {
		if err := run(client, target, c); err != nil {
			failed++
			fmt.Printf("FAIL  %-48s %v\n", c.Name, err)
		} else {
			fmt.Printf("ok    %s\n", c.Name)
		}
	}
	if err := concurrent(client, target, jpeg); err != nil {
		failed++
		fmt.Printf("FAIL  %-48s %v\n", "concurrent identical uploads", err)
	} else {
		fmt.Printf("ok    concurrent identical uploads\n")
	}
	if rss, err := target.PeakRSS(); err == nil && target.Cmd != nil {
		fmt.Printf("server peak RSS: %d MiB\n", rss>>20)
	}
	fmt.Printf("%d cases, %d failed\n", len(cases)+1, failed)
	if failed > 0 {
		if target.Cmd != nil {
			fmt.Fprintf(os.Stderr, "--- server output (last 4 KB) ---\n%s\n", target.OutputTail(4096))
		}
		os.Exit(1)
	}
}

func run(client *http.Client, s *localserver.Server, c hostile.Case) error {
	before, err := s.Objects()
	if err != nil {
		return err
	}
	req, err := c.Request(s.URL, s.Token)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	after, err := s.Objects()
	if err != nil {
		return err
	}
	if err := s.Healthy(context.Background()); err != nil {
		return fmt.Errorf("server unhealthy afterwards: %v", err)
	}
	added := len(after) - len(before)
	var answer struct {
		Key, URL string
	}
	json.Unmarshal(body, &answer)
	if c.Leaks(string(body)) || (s.Cmd != nil && c.Leaks(s.Output())) {
		return fmt.Errorf("the secret in the request shows in the answer or the server's log")
	}
	if c.MaxRead > 0 && s.Cmd != nil {
		if n := waitBytesRead(s, resp.Header.Get("X-Request-Id")); n < 0 || n > c.MaxRead {
			return fmt.Errorf("the server read %d bytes of the body before answering, want at most %d", n, c.MaxRead)
		}
	}
	switch {
	case c.OK200or422 && resp.StatusCode == 200:
		return servedSafely(client, answer.URL)
	case c.OK200or422 && resp.StatusCode == 422:
	case c.OK200or422:
		return fmt.Errorf("status %d, want 200 or 422: %.200s", resp.StatusCode, body)
	case resp.StatusCode != c.Status:
		return fmt.Errorf("status %d, want %d: %.200s", resp.StatusCode, c.Status, body)
	case c.Stores:
		if added != 1 || answer.Key == "" || strings.Contains(answer.Key, "..") || strings.ContainsAny(answer.Key, "\x00\u202e\r\n\\") {
			return fmt.Errorf("key %q, %d objects added; want one object with a safe key", answer.Key, added)
		}
		if !slices.Contains(after, answer.Key) {
			return fmt.Errorf("key %q is not inside the data directory", answer.Key)
		}
		return nil
	}
	code, message := hostile.ErrorOf(body)
	if message == "" {
		return fmt.Errorf("body is not a JSON error: %.200s", body)
	}
	if c.Code != "" && code != c.Code {
		return fmt.Errorf("error %q, want %q (%s)", code, c.Code, message)
	}
	if added != 0 {
		return fmt.Errorf("%d objects written", added)
	}
	return nil
}

// servedSafely checks that a stored polyglot is served as an image a
// browser will not run.
func servedSafely(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(b, []byte("alert(")) || bytes.Contains(b, []byte("<script")) {
		return fmt.Errorf("the stored polyglot still carries its script")
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		return fmt.Errorf("served as %q with nosniff=%q", resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
	}
	return nil
}

// concurrent sends one new image from 8 clients at once: every client gets
// 200 (or 503 with Retry-After), with one key, and one object is written.
func concurrent(client *http.Client, s *localserver.Server, jpeg []byte) error {
	before, _ := s.Objects()
	img := append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0A}, "abuse-1!"...) // a comment makes the bytes new
	img = append(img, jpeg[2:]...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	keys := map[string]bool{}
	var errs []string
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(img))
			req.Header.Set("Authorization", "Bearer "+s.Token)
			req.Header.Set("Content-Type", "image/jpeg")
			resp, err := client.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err.Error())
				return
			}
			defer resp.Body.Close()
			var u struct{ Key string }
			json.NewDecoder(resp.Body).Decode(&u)
			switch {
			case resp.StatusCode == 200:
				keys[u.Key] = true
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
			default:
				errs = append(errs, fmt.Sprint("status ", resp.StatusCode))
			}
		}()
	}
	wg.Wait()
	after, _ := s.Objects()
	if len(errs) > 0 || len(keys) != 1 || len(after)-len(before) != 1 {
		return fmt.Errorf("errors %v, keys %v, %d objects added; want one key and one object", errs, keys, len(after)-len(before))
	}
	return nil
}

// waitBytesRead is the bytes_in the server logged for request id; the
// line is written as the handler returns, a moment after the answer. The
// minute is a hang guard (only a missing line waits it out), not a timing.
func waitBytesRead(s *localserver.Server, id string) int64 {
	for range 3000 {
		if n := hostile.BytesRead(s.Output(), id); n >= 0 {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	return -1
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "abuse: "+format+"\n", args...)
	os.Exit(2)
}
