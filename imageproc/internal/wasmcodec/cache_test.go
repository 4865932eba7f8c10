package wasmcodec

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSeedCache: a shipped cache is linked file by file into the writable
// one, entries already there are kept, and a missing shipped cache is fine.
func TestSeedCache(t *testing.T) {
	shipped, dir := t.TempDir(), t.TempDir()
	sub := filepath.Join(shipped, "wazero-v1-amd64-linux")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"aa": "compiled a", "bb": "compiled b"} {
		if err := os.WriteFile(filepath.Join(sub, name), []byte(body), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "wazero-v1-amd64-linux"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wazero-v1-amd64-linux", "bb"), []byte("own b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SeedCache(shipped, dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"aa": "compiled a", "bb": "own b"} {
		got, err := os.ReadFile(filepath.Join(dir, "wazero-v1-amd64-linux", name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if err := SeedCache(filepath.Join(shipped, "missing"), dir); err != nil {
		t.Errorf("missing shipped cache: %v", err)
	}
}
