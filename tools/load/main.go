// Command load is picbed's bounded load generator: it builds and starts a
// local server (temporary data directory, PICBED_MAX_WIDTH=1920), has N
// clients upload real 12 MP photos for a fixed time, and prints throughput,
// latency percentiles, answers by status and the server's peak RSS. Then it
// checks that nothing was lost: every 2xx link is fetched and must serve an
// image of the size and dimensions the answer reported, and the data
// directory must hold exactly one object per distinct upload.
//
//	go run ./tools/load                        # 8 clients x 60 s
//	go run ./tools/load -clients 4 -duration 20s -memory-mb 512
//
// Each upload is made unique (a JPEG comment segment with a counter), so
// every request does the full work instead of hitting dedupe. A client
// that gets 503 waits for its Retry-After and sends the same photo again,
// as picbed's clients are told to.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/image/draw"

	"picbed/tools/localserver"
)

func main() {
	clients := flag.Int("clients", 8, "concurrent clients")
	duration := flag.Duration("duration", 60*time.Second, "how long to send uploads")
	photos := flag.String("photos", "bench/photos/std", "directory of JPEG photos (made by scripts/make-photos.sh); testdata/phone.jpg scaled to 12 MP when empty")
	memoryMB := flag.Int("memory-mb", 1024, "PICBED_MEMORY_MB of the server")
	maxWidth := flag.Int("max-width", 1920, "PICBED_MAX_WIDTH of the server")
	flag.Parse()

	set, source := loadPhotos(*photos)
	fmt.Printf("photos: %d from %s\n", len(set), source)

	dir, err := os.MkdirTemp("", "picbed-load-")
	check(err)
	defer os.RemoveAll(dir)
	bin, err := localserver.Build(dir)
	check(err)
	srv, err := localserver.Start(bin, dir,
		"PICBED_MAX_WIDTH="+strconv.Itoa(*maxWidth),
		"PICBED_MEMORY_MB="+strconv.Itoa(*memoryMB))
	check(err)
	defer srv.Stop()
	fmt.Printf("server: %s, PICBED_MEMORY_MB=%d, PICBED_MAX_WIDTH=%d; %d clients for %v\n", srv.URL, *memoryMB, *maxWidth, *clients, *duration)

	r := &recorder{statuses: map[int]int{}}
	client := &http.Client{Timeout: 2 * time.Minute}
	end := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				photo := set[(c+i)%len(set)]
				body := unique(photo.data, fmt.Sprintf("picbed-load %d/%d", c, i))
				for time.Now().Before(end) {
					wait := upload(client, srv, body, photo, r)
					if wait == 0 {
						break
					}
					time.Sleep(wait)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak, _ := srv.PeakRSS()

	lost := verify(client, srv, r.ok)
	report(r, elapsed, peak, *memoryMB, lost, srv)
	if code, err := srv.Stop(); err != nil || code != 0 {
		fmt.Printf("server exit: %d %v\n", code, err)
	}
}

type photo struct {
	data   []byte
	pixels int
}

type answer struct {
	URL           string
	Key           string
	Size          int
	Width, Height int
}

type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration // of 2xx answers
	statuses  map[int]int
	retry503  int // 503s carrying Retry-After
	neterr    int
	ok        []answer
	pixels    int64
}

// upload sends one photo; it returns how long to wait before sending it
// again (0: done, whatever the answer).
func upload(client *http.Client, srv *localserver.Server, body []byte, p photo, r *recorder) time.Duration {
	req, _ := http.NewRequest("POST", srv.URL+"/upload", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("Content-Type", "image/jpeg")
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.mu.Lock()
		r.neterr++
		r.mu.Unlock()
		return 0
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[resp.StatusCode]++
	switch {
	case resp.StatusCode == 200:
		var a answer
		if json.Unmarshal(b, &a) == nil {
			r.ok = append(r.ok, a)
		}
		r.latencies = append(r.latencies, lat)
		r.pixels += int64(p.pixels)
	case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
		r.retry503++
		s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(max(s, 1)) * time.Second
	}
	return 0
}

// verify fetches every link answered 200 and compares it with the answer;
// it returns the number of lost or wrong uploads.
func verify(client *http.Client, srv *localserver.Server, ok []answer) int {
	lost := 0
	keys := map[string]bool{}
	for _, a := range ok {
		keys[a.Key] = true
		resp, err := client.Get(a.URL)
		if err != nil {
			lost++
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if resp.StatusCode != 200 || len(b) != a.Size || err != nil || cfg.Width != a.Width || cfg.Height != a.Height {
			lost++
			fmt.Printf("LOST %s: %d, %d bytes (answer %d), %dx%d (answer %dx%d) %v\n", a.Key, resp.StatusCode, len(b), a.Size, cfg.Width, cfg.Height, a.Width, a.Height, err)
		}
	}
	objs, _ := srv.Objects()
	if len(objs) != len(keys) {
		fmt.Printf("LOST: %d distinct keys answered, %d objects stored\n", len(keys), len(objs))
		lost += abs(len(keys) - len(objs))
	}
	return lost
}

func report(r *recorder, elapsed time.Duration, peak int64, memoryMB, lost int, srv *localserver.Server) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	total := 0
	bad5xx := 0
	for s, n := range r.statuses {
		total += n
		if s >= 500 && s != 503 {
			bad5xx += n
		}
	}
	bad5xx += r.statuses[503] - r.retry503
	fmt.Printf("\nrequests: %d in %.1fs; uploads stored: %d (%.2f/s, %.1f MP/s of source pixels)\n",
		total, elapsed.Seconds(), len(r.ok), float64(len(r.ok))/elapsed.Seconds(), float64(r.pixels)/1e6/elapsed.Seconds())
	fmt.Printf("latency of 2xx: p50 %v  p95 %v  p99 %v  max %v\n", pct(0.50).Round(time.Millisecond), pct(0.95).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), pct(1).Round(time.Millisecond))
	keys := make([]int, 0, len(r.statuses))
	for s := range r.statuses {
		keys = append(keys, s)
	}
	sort.Ints(keys)
	fmt.Printf("answers by status:")
	for _, s := range keys {
		fmt.Printf("  %d: %d", s, r.statuses[s])
	}
	fmt.Printf("  (503 with Retry-After: %d; network errors: %d)\n", r.retry503, r.neterr)
	limit := int64(memoryMB) << 20
	fmt.Printf("server peak RSS (VmHWM): %d MiB; PICBED_MEMORY_MB %d = budget %d MiB + overhead 128 MiB\n", peak>>20, memoryMB, memoryMB-128)
	verdict := "PASS"
	if bad5xx > 0 || lost > 0 || r.neterr > 0 || peak > limit || len(r.ok) == 0 {
		verdict = "FAIL"
	}
	fmt.Printf("5xx other than 503+Retry-After: %d; lost uploads: %d; peak RSS under %d MiB: %v => %s\n", bad5xx, lost, memoryMB, peak <= limit, verdict)
	if verdict == "FAIL" {
		fmt.Fprintf(os.Stderr, "--- server output (last 3 KB) ---\n%s\n", srv.OutputTail(3072))
		srv.Stop()
		os.Exit(1)
	}
}

// unique inserts a JPEG comment segment after SOI: new bytes, same picture.
func unique(src []byte, tag string) []byte {
	seg := []byte{0xFF, 0xFE, byte((len(tag) + 2) >> 8), byte(len(tag) + 2)}
	out := make([]byte, 0, len(src)+len(seg)+len(tag))
	out = append(out, src[:2]...)
	out = append(out, seg...)
	out = append(out, tag...)
	return append(out, src[2:]...)
}

// loadPhotos reads the JPEGs of dir, or makes 12 MP photos from
// testdata/phone.jpg when there are none.
func loadPhotos(dir string) ([]photo, string) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	var set []photo
	for _, p := range paths {
		b, err := os.ReadFile(p)
		check(err)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		check(err)
		set = append(set, photo{b, cfg.Width * cfg.Height})
	}
	if len(set) > 0 {
		return set, dir
	}
	b, err := os.ReadFile("testdata/phone.jpg")
	check(err)
	src, err := jpeg.Decode(bytes.NewReader(b))
	check(err)
	dst := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var out bytes.Buffer
	check(jpeg.Encode(&out, dst, &jpeg.Options{Quality: 92}))
	return []photo{{out.Bytes(), 4032 * 3024}}, "testdata/phone.jpg scaled to 4032x3024 (no bench/photos/std; run scripts/make-photos.sh for real 12 MP photos)"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
}
