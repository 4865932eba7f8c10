package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// metaDir holds one JSON sidecar per object (content type and metadata),
// under a dot name no key can reach.
const metaDir = ".meta"

// Local stores objects as files under a root directory. Writes are atomic
// (temp file, fsync, rename), so a reader never sees half an image. Every
// file operation goes through an os.Root: no key, and no symlink planted
// inside the directory, can reach a file outside it.
type Local struct {
	root string
	r    *os.Root
}

// NewLocal opens (creating if needed) the directory dir as a store.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(abs, metaDir), 0o755); err != nil {
		return nil, fmt.Errorf("storage directory %s: %w", abs, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("storage directory %s: %w", abs, err)
	}
	return &Local{root: abs, r: r}, nil
}

// Root is the directory the store writes under.
func (l *Local) Root() string { return l.root }

// paths are the object's and its sidecar's names relative to the root.
func (l *Local) paths(key string) (data, meta string, err error) {
	if err := checkKey(key); err != nil {
		return "", "", err
	}
	return key, metaDir + "/" + key + ".json", nil
}

type sidecar struct {
	ContentType string            `json:"content_type"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// Put writes data under key atomically. The sidecar goes first: a crash
// between the two leaves an orphan sidecar, never an object without its
// Content-Type.
func (l *Local) Put(_ context.Context, key string, data []byte, o PutOptions) error {
	dp, mp, err := l.paths(key)
	if err != nil {
		return err
	}
	sc, err := json.Marshal(sidecar{ContentType: o.ContentType, Meta: o.Meta})
	if err != nil {
		return err
	}
	if err := l.writeAtomic(mp, sc); err != nil {
		return l.ioError("write", err)
	}
	if err := l.writeAtomic(dp, data); err != nil {
		return l.ioError("write", err)
	}
	return nil
}

// ioError is a failure of the disk under the store: the service is
// unavailable until the operator fixes it, and a retry is safe.
func (l *Local) ioError(op string, err error) error {
	return &Error{Status: http.StatusServiceUnavailable, Message: "local storage failed to " + op + " (check the data directory's permissions and free space)", Err: err}
}

func (l *Local) writeAtomic(name string, data []byte) error {
	dir := path.Dir(name)
	if err := l.r.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rnd := make([]byte, 8)
	rand.Read(rnd)
	tmp := path.Join(dir, ".tmp-"+hex.EncodeToString(rnd))
	f, err := l.r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer l.r.Remove(tmp) // fails harmlessly after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := l.r.Rename(tmp, name); err != nil {
		return err
	}
	if d, err := l.r.Open(dir); err == nil {
		d.Sync() // make the rename durable; best effort on filesystems that refuse
		d.Close()
	}
	return nil
}

// missing reports whether err means "no such object": it does not exist,
// or reaching it would leave the root (a symlink pointing outside), which
// callers must not be able to tell apart.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		strings.Contains(err.Error(), "path escapes from parent")
}

// Stat describes the object under key, or returns ErrNotFound. Only
// regular files are objects: a symlink is never followed to its target.
func (l *Local) Stat(_ context.Context, key string) (Object, error) {
	dp, mp, err := l.paths(key)
	if err != nil {
		return Object{}, err
	}
	fi, err := l.r.Lstat(dp)
	if (err != nil && missing(err)) || (err == nil && !fi.Mode().IsRegular()) {
		return Object{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Object{}, l.ioError("read", err)
	}
	o := Object{Key: key, Size: fi.Size(), Modified: fi.ModTime(), ContentType: "application/octet-stream"}
	if b, err := l.r.ReadFile(mp); err == nil {
		var sc sidecar
		if json.Unmarshal(b, &sc) == nil {
			o.ContentType, o.Meta = sc.ContentType, sc.Meta
		}
	}
	return o, nil
}

// Get reads the object under key.
func (l *Local) Get(ctx context.Context, key string) ([]byte, Object, error) {
	o, err := l.Stat(ctx, key)
	if err != nil {
		return nil, Object{}, err
	}
	b, err := l.r.ReadFile(key)
	if err != nil && missing(err) {
		return nil, Object{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, Object{}, l.ioError("read", err)
	}
	o.Size = int64(len(b))
	return b, o, nil
}

// Delete removes the object under key and the variants made of it;
// deleting a missing object is not an error (as in OSS).
func (l *Local) Delete(_ context.Context, key string) error {
	dp, mp, err := l.paths(key)
	if err != nil {
		return err
	}
	if err := l.r.Remove(dp); err != nil && !missing(err) {
		return l.ioError("delete", err)
	}
	l.r.Remove(mp)
	return l.deleteVariants(key)
}

// List returns objects under prefix, newest first, limit at a time. The
// cursor is the key of the last object of the previous page.
func (l *Local) List(ctx context.Context, prefix, cursor string, limit int) ([]Object, string, error) {
	var all []Object
	err := fs.WalkDir(l.r.FS(), ".", func(key string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && key != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir // outside the prefix: do not walk it
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		o, err := l.Stat(ctx, key)
		if err == nil {
			all = append(all, o)
		}
		return nil
	})
	if err != nil {
		return nil, "", l.ioError("list", err)
	}
	page, next := newestFirst(all, cursor, limit)
	return page, next, nil
}
