// Package preauth finds a credential that a client sends inside its request
// body (Chevereto's and ImgBB's "key" form field) without letting a client
// that has none make picbed hold its body in memory.
//
// The body is read once, as it arrives, by a scanner that looks only for
// the key field; every byte the scanner consumes is kept in a spool (the
// first 64 KiB in memory, the rest in an unlinked temporary file), so that
// once the key is accepted the request is replayed unchanged from the
// spool and then the rest of the body. A wrong key is refused the moment it
// is read: a client that sends the key before the file (ShareX, Python's
// requests) has nothing of the file read; one that sends it after
// (imgbb-uploader's Chevereto mode: source=<base64>&key=...) has the file
// on disk, never in memory. A few scans run at once; beyond that the
// request is refused as busy, so unauthenticated clients cannot fill the
// disk either (a slot is held until the key is accepted or refused).
package preauth

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"os"
	"strings"
)

// The refusals of Key. Anything else is the check's own error (a wrong
// key) or a read error of the body.
var (
	ErrNoKey     = errors.New("preauth: the body carries no key field")
	ErrBusy      = errors.New("preauth: every spool is in use")
	ErrTooLarge  = errors.New("preauth: the body is over its limit")
	ErrMalformed = errors.New("preauth: the body is malformed")
)

// memSpool is the part of a spool kept in memory; maxKey the longest key
// value read (a longer one is wrong anyway); maxName the longest field
// name compared.
const (
	memSpool = 64 << 10
	maxKey   = 4 << 10
	maxName  = 256
)

// Spooler runs the scans. Slots bounds how many run (and hold spool files)
// at once; Dir is where spool files go ("" is os.TempDir()); MaxParts
// bounds the parts of a multipart body scanned.
type Spooler struct {
	dir      string
	maxParts int
	slots    chan struct{}
}

// New makes a Spooler with slots concurrent spools in dir.
func New(dir string, slots, maxParts int) *Spooler {
	return &Spooler{dir: dir, maxParts: maxParts, slots: make(chan struct{}, max(slots, 1))}
}

// Key scans body (of media type mediaType, with its parameters) for the
// form field name and calls check with its first value. When check accepts
// it, Key returns the body to read in its place: the spooled bytes, then
// the rest of body, byte for byte what the client sent; close it when the
// request ends (its spool file goes then; its slot went with the key). Otherwise it returns check's error, ErrNoKey, ErrBusy,
// ErrTooLarge (more than limit bytes before the key), ErrMalformed, or the
// body's read error; whatever was spooled is gone by then.
func (s *Spooler) Key(body io.Reader, mediaType string, params map[string]string, name string, limit int64, check func(key string) error) (io.ReadCloser, error) {
	select {
	case s.slots <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	sp := &spool{dir: s.dir, limit: limit}
	release := func() { sp.close(); <-s.slots }
	tee := io.TeeReader(body, sp)
	var key string
	var err error
	switch mediaType {
	case "multipart/form-data":
		key, err = s.multipartKey(tee, params["boundary"], name)
	case "application/x-www-form-urlencoded":
		key, err = formKey(tee, name)
	default:
		err = ErrNoKey
	}
	if err == nil {
		err = check(key)
	}
	if err != nil {
		release()
		if sp.err != nil { // the spool's own failure explains the read error
			return nil, sp.err
		}
		return nil, err
	}
	r, err := sp.reader()
	if err != nil {
		release()
		return nil, err
	}
	<-s.slots // authenticated: the slots bound only what strangers hold
	return &replay{Reader: io.MultiReader(r, body), release: sp.close}, nil
}

func (s *Spooler) multipartKey(r io.Reader, boundary, name string) (string, error) {
	if boundary == "" {
		return "", ErrMalformed
	}
	mr := multipart.NewReader(r, boundary)
	for n := 0; n < s.maxParts; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return "", ErrNoKey
		}
		if err != nil {
			return "", malformed(err)
		}
		if p.FormName() == name && p.FileName() == "" {
			b, err := io.ReadAll(io.LimitReader(p, maxKey))
			if err != nil {
				return "", malformed(err)
			}
			return string(b), nil
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return "", malformed(err)
		}
	}
	return "", fmt.Errorf("%w: more than %d parts", ErrMalformed, s.maxParts)
}

// formKey reads name=value pairs of an application/x-www-form-urlencoded
// body until the pair called name, holding at most one short name and the
// key's value.
func formKey(r io.Reader, name string) (string, error) {
	br := bufio.NewReader(r)
	for {
		field, end, err := token(br, "=&", maxName)
		if err != nil {
			return "", err
		}
		isKey := false
		if f, uerr := url.QueryUnescape(field); uerr == nil && f == name {
			isKey = true
		}
		if end == '=' {
			limit := 0 // skip the value
			if isKey {
				limit = maxKey
			}
			v, vend, err := token(br, "&", limit)
			if err != nil {
				return "", err
			}
			if isKey {
				k, uerr := url.QueryUnescape(v)
				if uerr != nil {
					return "", malformed(uerr)
				}
				return k, nil
			}
			end = vend
		} else if isKey {
			return "", nil // "key" with no value: given, and empty
		}
		if end == 0 {
			return "", ErrNoKey
		}
	}
}

// token reads up to (not including) the first byte of stop or the end of
// input, keeping at most keep bytes of it; end is the stop byte met, 0 at
// the end of input.
func token(br *bufio.Reader, stop string, keep int) (s string, end byte, err error) {
	var b strings.Builder
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return b.String(), 0, nil
		}
		if err != nil {
			return "", 0, err
		}
		if strings.IndexByte(stop, c) >= 0 {
			return b.String(), c, nil
		}
		if b.Len() < keep {
			b.WriteByte(c)
		}
	}
}

func malformed(err error) error {
	if errors.Is(err, ErrTooLarge) {
		return ErrTooLarge
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// replay is the body to read in place of the original.
type replay struct {
	io.Reader
	release func()
	closed  bool
}

func (r *replay) Close() error {
	if !r.closed {
		r.closed = true
		r.release()
	}
	return nil
}

// spool keeps what the scanner read: memSpool bytes in memory, then an
// unlinked temporary file, never more than limit bytes in all.
type spool struct {
	dir   string
	limit int64
	mem   bytes.Buffer
	f     *os.File
	n     int64
	err   error // the first failure; Write keeps returning it
}

func (s *spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.n+int64(len(p)) > s.limit {
		s.err = ErrTooLarge
		return 0, s.err
	}
	s.n += int64(len(p))
	if s.f == nil && s.mem.Len()+len(p) <= memSpool {
		return s.mem.Write(p)
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "picbed-preauth-*")
		if err != nil {
			s.err = fmt.Errorf("preauth: spooling the body: %w", err)
			return 0, s.err
		}
		os.Remove(f.Name()) // unlinked: gone with the last close, even after a crash
		s.f = f
	}
	if _, err := s.f.Write(p); err != nil {
		s.err = fmt.Errorf("preauth: spooling the body: %w", err)
		return 0, s.err
	}
	return len(p), nil
}

// reader reads the spool from its start.
func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.MultiReader(bytes.NewReader(s.mem.Bytes()), s.f), nil
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.mem = bytes.Buffer{}
}
