package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// goTestOrRun finds a `go test` / `go run` / `go build` invocation in a
// Makefile recipe or shell script line (`$(GO)`, `$GO` or plain `go`).
var goTestOrRun = regexp.MustCompile(`(?:\$\(GO\)|\$GO|\bgo)\s+(test|build|run)\b`)

// TestEveryGoInvocationUsesTheBuildTags: the Makefile promises that tests,
// the local server, benchmarks, fuzzing and FC all run the pure-wasm codecs
// (-tags nodynamic). A `go test` without the tags on a machine with system
// libheif/libwebp measures or fuzzes other codecs than FC runs.
func TestEveryGoInvocationUsesTheBuildTags(t *testing.T) {
	for _, file := range []string{"../Makefile", "../scripts/fuzz.sh"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for n, line := range strings.Split(string(data), "\n") {
			m := goTestOrRun.FindStringSubmatch(line)
			if m == nil || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if m[1] == "run" && strings.Contains(line, "./scripts/zipdir") {
				continue // a zip tool: no codecs linked
			}
			found++
			if !strings.Contains(line, "-tags $(TAGS)") && !strings.Contains(line, `-tags "$TAGS"`) {
				t.Errorf("%s:%d runs go %s without the build tags: %s", file, n+1, m[1], strings.TrimSpace(line))
			}
		}
		if found == 0 {
			t.Errorf("%s: no go invocation found; the pattern is stale", file)
		}
	}
	if !regexp.MustCompile(`(?m)^TAGS \?= nodynamic$`).Match(mustRead(t, "../Makefile")) {
		t.Error("Makefile: TAGS no longer defaults to nodynamic")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
