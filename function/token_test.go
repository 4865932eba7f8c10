package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"picbed/tools/localserver"
)

// TestLocalStartPrintsOnlyGeneratedTokens: a token the operator set in
// PICBED_TOKENS never appears in the start-up output (terminals are
// recorded, logs are shipped); a token picbed generated itself is printed,
// since nobody else could know it.
func TestLocalStartPrintsOnlyGeneratedTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	t.Run("set in PICBED_TOKENS: not printed", func(t *testing.T) {
		srv, err := localserver.Start(binPath, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop()
		out := startupOutput(t, srv)
		if strings.Contains(out, srv.Token) {
			t.Errorf("the start-up output shows the token from PICBED_TOKENS:\n%s", out)
		}
		if !strings.Contains(out, "PICBED_TOKENS") {
			t.Errorf("the output does not say where the token comes from:\n%s", out)
		}
	})
	t.Run("generated: printed", func(t *testing.T) {
		srv, err := localserver.Start(binPath, t.TempDir(), "PICBED_TOKENS=")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Stop()
		b, err := os.ReadFile(filepath.Join(srv.DataDir, ".picbed-token"))
		if err != nil {
			t.Fatal(err)
		}
		tok := strings.TrimSpace(string(b))
		if len(tok) < 16 || !strings.Contains(startupOutput(t, srv), "upload token: "+tok) {
			t.Errorf("the generated token %q is not printed:\n%s", tok, srv.Output())
		}
	})
}

// startupOutput is the server's output once its start-up lines are in (they
// reach the buffer through a pipe, maybe after /healthz answered).
func startupOutput(t *testing.T, srv *localserver.Server) string {
	t.Helper()
	return waitOutput(t, srv.Output, "in a browser")
}

// waitOutput polls output until it contains want and returns it. Lines
// reach the buffer through a pipe, after the work that wrote them may have
// answered; a minute without them is reported as a hang.
func waitOutput(t *testing.T, output func() string, want string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if out := output(); strings.Contains(out, want) {
			return out
		}
	}
	t.Fatalf("no %q in the output:\n%s", want, output())
	return ""
}
