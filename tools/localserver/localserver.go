// Package localserver builds picbed's binary and runs it as a local server
// on a free port with a temporary data directory, for the tools (load,
// abuse) and the tests that need the real process: its exit code, its
// signals, its peak memory.
package localserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ModuleRoot is the directory of picbed's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the picbed module")
	}
	return filepath.Dir(mod), nil
}

// Build compiles ./function into dir, with the nodynamic tag as make run
// and make build do, and returns the binary's path.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "picbed")
	cmd := exec.Command("go", "build", "-tags", "nodynamic", "-o", bin, "./function")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./function: %v\n%s", err, out)
	}
	return bin, nil
}

// Server is a running picbed process.
type Server struct {
	URL     string // http://127.0.0.1:port
	Token   string
	DataDir string
	Cmd     *exec.Cmd

	output SyncBuffer // stdout and stderr, interleaved
	done   chan struct{}
	err    error
}

// Start runs bin with env added to a clean environment (PATH and HOME
// kept), a fresh token and data directory under dir, on a free port, and
// waits until /healthz answers.
//
// A free port is only free until someone binds it: another test process
// may take it between the probe and picbed's own bind. So Start waits for
// picbed's "listening on" line (its own bind, not some other server on
// that port answering /healthz) and tries another port when the bind
// failed with "address already in use".
func Start(bin, dir string, env ...string) (*Server, error) {
	var err error
	for range 5 {
		var s *Server
		var taken bool
		if s, taken, err = start(bin, dir, env); err == nil || !taken {
			return s, err
		}
	}
	return nil, err
}

// start is one attempt of Start; taken reports that the port was gone.
func start(bin, dir string, env []string) (s *Server, taken bool, err error) {
	port, err := probePort()
	if err != nil {
		return nil, false, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	s = &Server{
		URL:     "http://127.0.0.1:" + strconv.Itoa(port),
		Token:   hex.EncodeToString(tok),
		DataDir: filepath.Join(dir, "data"),
		done:    make(chan struct{}),
	}
	s.Cmd = exec.Command(bin)
	s.Cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"PICBED_LISTEN=127.0.0.1:" + strconv.Itoa(port),
		"PICBED_DATA_DIR=" + s.DataDir,
		"PICBED_TOKENS=" + s.Token,
	}, env...)
	s.Cmd.Stdout, s.Cmd.Stderr = &s.output, &s.output
	if err := s.Cmd.Start(); err != nil {
		return nil, false, err
	}
	go func() {
		s.err = s.Cmd.Wait()
		close(s.done)
	}()
	// A minute is a hang guard: a loaded machine may take seconds.
	started := time.Now()
	deadline := started.Add(time.Minute)
	listening := "listening on " + s.URL
	for {
		if strings.Contains(s.Output(), listening) {
			resp, err := http.Get(s.URL + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return s, false, nil
				}
			}
		}
		select {
		case <-s.done:
			out := s.Output()
			return nil, strings.Contains(out, "address already in use"), fmt.Errorf("picbed exited before answering: %v\n%s", s.err, out)
		default:
		}
		if time.Now().After(deadline) {
			s.Cmd.Process.Kill()
			<-s.done
			return nil, false, fmt.Errorf("picbed did not answer /healthz within a minute\n%s", s.Output())
		}
		// Every millisecond at first, so tools/coldstart can time a fast
		// start through Start; then less often, not to crowd a slow one.
		if time.Since(started) < 100*time.Millisecond {
			time.Sleep(time.Millisecond)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// SyncBuffer is a bytes.Buffer that a process's stdout and stderr (or
// several goroutines) may write at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Output is what the process printed so far.
func (s *Server) Output() string { return s.output.String() }

// OutputTail is the last n bytes of Output.
func (s *Server) OutputTail(n int) string {
	out := s.Output()
	return out[max(0, len(out)-n):]
}

// PeakRSS is the process's peak resident memory (VmHWM) in bytes.
func (s *Server) PeakRSS() (int64, error) { return procStatus(s.Cmd.Process.Pid, "VmHWM") }

// RSS is the process's resident memory now (VmRSS) in bytes.
func (s *Server) RSS() (int64, error) { return procStatus(s.Cmd.Process.Pid, "VmRSS") }

func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// Signal sends sig to the process.
func (s *Server) Signal(sig os.Signal) error { return s.Cmd.Process.Signal(sig) }

// Wait waits up to d for the process to exit and returns its exit code.
func (s *Server) Wait(d time.Duration) (int, error) {
	select {
	case <-s.done:
		return s.Cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		return -1, fmt.Errorf("picbed still running after %v", d)
	}
}

// Stop sends SIGTERM and waits for the exit (killing after 30s).
func (s *Server) Stop() (int, error) {
	s.Signal(syscall.SIGTERM)
	code, err := s.Wait(30 * time.Second)
	if err != nil {
		s.Cmd.Process.Kill()
		<-s.done
	}
	return code, err
}

// Objects lists the stored objects (not picbed's dot files), relative to
// the data directory.
func (s *Server) Objects() ([]string, error) {
	var out []string
	err := filepath.WalkDir(s.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != s.DataDir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(s.DataDir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Healthy reports whether /healthz answers 200 within a few seconds.
func (s *Server) Healthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("/healthz = %d", resp.StatusCode)
	}
	return nil
}

// probePort is freePort; a test makes it hand out a taken port.
var probePort = freePort

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
