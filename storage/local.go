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
	"sort"
	"strings"
	"sync"
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
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, errPathEscapes())
}

// errPathEscapes is the error value an os.Root answers when a path would
// leave it. The os package does not export it, so it is taken, once, from
// a root asked for its parent.
var errPathEscapes = sync.OnceValue(func() error {
	r, err := os.OpenRoot(os.TempDir())
	if err != nil {
		return errors.New("no os.Root available") // matches nothing
	}
	defer r.Close()
	_, err = r.Lstat("..")
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err != nil {
		return pe.Err
	}
	return errors.New("os.Root let a path leave it") // matches nothing
})

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

// List is a page of the directory in key order, as OSS lists a bucket:
// directories are read in that order and only as deep and as far as the
// page needs, each object costs one lstat and no sidecar is read. Symlinks
// and hidden names (sidecars, temp files) are not objects. The Token of
// the next page is the last key (or folder, then followed by 0xff: past
// every key below it) of this one.
func (l *Local) List(ctx context.Context, q ListQuery) (Listing, error) {
	max := q.pageSize()
	after := q.StartAfter
	if q.Token != "" {
		after = q.Token
	}
	var out Listing
	n, last := 0, ""
	// past reports whether nothing below folder p (ending in "/") comes
	// after the cursor.
	past := func(p string) bool { return after != "" && after >= p+"\xff" }
	var walk func(dir string) (stop bool, err error)
	walk = func(dir string) (bool, error) {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		name := strings.TrimSuffix(dir, "/")
		if name == "" {
			name = "."
		}
		entries, err := fs.ReadDir(l.r.FS(), name)
		if err != nil {
			if missing(err) {
				return false, nil
			}
			return true, err
		}
		sortKey := func(e fs.DirEntry) string {
			if e.IsDir() {
				return e.Name() + "/"
			}
			return e.Name()
		}
		sort.Slice(entries, func(i, j int) bool { return sortKey(entries[i]) < sortKey(entries[j]) })
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if e.IsDir() {
				p := dir + e.Name() + "/"
				if !strings.HasPrefix(p, q.Prefix) && !strings.HasPrefix(q.Prefix, p) || past(p) {
					continue
				}
				if q.Delimiter == "/" && len(p) > len(q.Prefix) {
					cp := q.Prefix + strings.SplitAfter(p[len(q.Prefix):], "/")[0]
					if cp == p { // a folder of the listing, not walked
						if n == max {
							out.Next = last
							return true, nil
						}
						out.Prefixes = append(out.Prefixes, p)
						n, last = n+1, p+"\xff"
						continue
					}
				}
				if stop, err := walk(p); stop || err != nil {
					return stop, err
				}
				continue
			}
			k := dir + e.Name()
			if !e.Type().IsRegular() || !strings.HasPrefix(k, q.Prefix) || (after != "" && k <= after) {
				continue
			}
			if n == max {
				out.Next = last
				return true, nil
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			out.Objects = append(out.Objects, Object{Key: k, Size: fi.Size(), Modified: fi.ModTime()})
			n, last = n+1, k
		}
		return false, nil
	}
	if _, err := walk(q.Prefix[:strings.LastIndex(q.Prefix, "/")+1]); err != nil {
		return Listing{}, l.ioError("list", err)
	}
	return out, nil
}
