package wasmcodec

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// SeedCache links every file of a shipped (possibly read-only) cache
// directory into dir, which UseCacheDir can then use: wazero reads entries
// through the links and writes what is missing (another CPU, another wazero
// version) next to them. Entries already in dir are kept. A missing shipped
// directory is not an error: the codecs then compile on first use.
func SeedCache(shipped, dir string) error {
	err := filepath.WalkDir(shipped, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(shipped, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if err := os.Symlink(abs, target); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
