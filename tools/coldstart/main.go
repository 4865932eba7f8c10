// coldstart measures what a cold Function Compute instance pays, through
// the real binary: the time from starting the process to its first
// /healthz answer, and for each WebAssembly codec (HEIC decode, AVIF
// decode, WebP encode) the first upload that needs it against the second,
// in wall time and the server process's CPU time (/proc, 10 ms ticks).
// It runs the binary twice: without a compilation cache (every new
// instance compiles the codecs) and with the cache `make build` ships
// (wasmcache/ next to the executable). `make bench-peers` prints its rows.
//
//	go run -tags nodynamic ./tools/coldstart [-runs 3]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"picbed/tools/localserver"
)

type job struct {
	name, file, query string
}

var jobs = []job{
	{"heic", "testdata/phone.heic", ""},
	{"avif", "testdata/phone.avif", ""},
	{"webp", "testdata/icc.jpg", "?format=webp"},
}

func main() {
	runs := flag.Int("runs", 3, "fresh processes per mode (medians are printed)")
	modes := flag.String("modes", "no-cache,shipped-cache", "which modes to run")
	flag.Parse()
	if err := run(*runs, strings.Split(*modes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

// result is one mode's medians, in milliseconds.
type result struct {
	Mode       string             `json:"mode"`
	StartMs    float64            `json:"start_to_healthz_ms"`
	FirstWall  map[string]float64 `json:"first_wall_ms"`
	SecondWall map[string]float64 `json:"second_wall_ms"`
	FirstCPU   map[string]float64 `json:"first_cpu_ms"`
	SecondCPU  map[string]float64 `json:"second_cpu_ms"`
	Runs       int                `json:"runs"`
}

func run(runs int, modes []string) error {
	root, err := localserver.ModuleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := localserver.Build(tmp)
	if err != nil {
		return err
	}
	for _, mode := range modes {
		cache := filepath.Join(filepath.Dir(bin), "wasmcache")
		os.RemoveAll(cache)
		if mode == "shipped-cache" {
			if out, err := exec.Command(bin, "wasm-cache", cache).CombinedOutput(); err != nil {
				return fmt.Errorf("wasm-cache: %v\n%s", err, out)
			}
		}
		var all []sample
		for i := 0; i < runs; i++ {
			s, err := once(bin, filepath.Join(tmp, fmt.Sprintf("%s-%d", mode, i)))
			if err != nil {
				return err
			}
			all = append(all, s)
		}
		r := result{Mode: mode, Runs: runs, FirstWall: map[string]float64{}, SecondWall: map[string]float64{},
			FirstCPU: map[string]float64{}, SecondCPU: map[string]float64{}}
		r.StartMs = median(all, func(s sample) float64 { return s.start })
		for _, j := range jobs {
			r.FirstWall[j.name] = median(all, func(s sample) float64 { return s.wall[j.name][0] })
			r.SecondWall[j.name] = median(all, func(s sample) float64 { return s.wall[j.name][1] })
			r.FirstCPU[j.name] = median(all, func(s sample) float64 { return s.cpu[j.name][0] })
			r.SecondCPU[j.name] = median(all, func(s sample) float64 { return s.cpu[j.name][1] })
		}
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
	return nil
}

type sample struct {
	start     float64
	wall, cpu map[string][2]float64
}

// once starts a fresh process (fresh TMPDIR: no cache from an earlier run)
// and times its first answer and two uploads per codec.
func once(bin, dir string) (sample, error) {
	s := sample{wall: map[string][2]float64{}, cpu: map[string][2]float64{}}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return s, err
	}
	t0 := time.Now()
	srv, err := localserver.Start(bin, dir, "TMPDIR="+filepath.Join(dir, "tmp"))
	if err != nil {
		return s, err
	}
	s.start = ms(time.Since(t0))
	defer srv.Stop()
	addr, token, pid := srv.URL, srv.Token, srv.Cmd.Process.Pid
	client := &http.Client{Timeout: 60 * time.Second}
	for _, j := range jobs {
		src, err := os.ReadFile(j.file)
		if err != nil {
			return s, err
		}
		var w, c [2]float64
		for k := 0; k < 2; k++ {
			body := src
			if j.name != "webp" { // a different trailing 'free' box each time: no dedupe, same work
				body = append(bytes.Clone(src), 0, 0, 0, 12, 'f', 'r', 'e', 'e', byte(k), 0, 0, 0)
			} else { // a JPEG comment
				body = append([]byte{0xFF, 0xD8, 0xFF, 0xFE, 0, 3, byte(k)}, src[2:]...)
			}
			cpu0, err := procCPU(pid)
			if err != nil {
				return s, err
			}
			t := time.Now()
			req, _ := http.NewRequest("POST", addr+"/upload"+j.query, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := client.Do(req)
			if err != nil {
				return s, err
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return s, fmt.Errorf("%s upload: %d %s", j.name, resp.StatusCode, msg)
			}
			w[k] = ms(time.Since(t))
			cpu1, err := procCPU(pid)
			if err != nil {
				return s, err
			}
			c[k] = cpu1 - cpu0
		}
		s.wall[j.name], s.cpu[j.name] = w, c
	}
	return s, nil
}

// procCPU is the process's user+system time in milliseconds.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) * 10, nil // USER_HZ is 100 on Linux
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(all []sample, f func(sample) float64) float64 {
	v := make([]float64, len(all))
	for i, s := range all {
		v[i] = f(s)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
