// Package storage is where picbed's bytes go: a local directory (local
// mode) or an OSS bucket. Both speak the same small set of methods, which
// the handler declares as the interface it needs.
package storage

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNotFound is returned (wrapped) when an object does not exist.
var ErrNotFound = errors.New("object not found")

// CacheControl is sent with every stored image: keys are content-derived,
// so an object never changes under its key.
const CacheControl = "public, max-age=31536000, immutable"

// MaxKeyLen bounds object keys (OSS allows 1023 bytes).
const MaxKeyLen = 1000

// PutOptions are the headers an object is written with.
type PutOptions struct {
	ContentType string
	Meta        map[string]string // user metadata: lower-case names, ASCII values
}

// Object describes a stored object.
type Object struct {
	Key         string
	Size        int64
	ContentType string
	Modified    time.Time
	Meta        map[string]string
}

// ListQuery asks for one page of a store's native order: keys compared
// byte by byte, as OSS lists them.
type ListQuery struct {
	Prefix     string // only keys starting with Prefix
	StartAfter string // only keys after StartAfter (the first call)
	Token      string // a previous Listing's Next (later calls; wins over StartAfter)
	Delimiter  string // "/" groups the keys below the next "/" after Prefix into Prefixes
	Max        int    // objects plus prefixes per page, 1..1000 (0: 1000)
}

// MaxListPage is the most a List call returns (OSS's limit).
const MaxListPage = 1000

// pageSize is Max within 1..MaxListPage (0 or out of range: MaxListPage).
func (q ListQuery) pageSize() int {
	if q.Max <= 0 || q.Max > MaxListPage {
		return MaxListPage
	}
	return q.Max
}

// Listing is one page of a listing.
type Listing struct {
	Objects  []Object // in key order: Key, Size and Modified only (a listing carries no Content-Type or metadata)
	Prefixes []string // with a Delimiter: the folders, in key order
	Next     string   // the Token of the next page; "" on the last one
}

// Error is a storage failure with the HTTP status it deserves and a message
// that tells the operator what to fix. Internal detail stays in Err.
type Error struct {
	Status  int
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status a request that hit this error answers with.
func (e *Error) HTTPStatus() int { return e.Status }

// PublicMessage is what the client is told.
func (e *Error) PublicMessage() string { return e.Message }

// CheckKey refuses keys that could escape a root or confuse a listing: empty
// or over-long keys, a leading '/', '.' or '..' segments, hidden segments
// (picbed keeps its own files under dot names), empty segments, control
// characters, backslashes and invalid UTF-8.
func CheckKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("invalid object key %q: %s", key, why) }
	if key == "" || len(key) > MaxKeyLen {
		return bad("empty or longer than 1000 bytes")
	}
	if !utf8.ValidString(key) {
		return bad("not UTF-8")
	}
	if strings.ContainsAny(key, "\\") {
		return bad("backslash")
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u202d' {
			return bad("control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return bad("empty, dot or hidden path segment")
		}
	}
	return nil
}

// MaxObjectNameLen is the longest object name OSS accepts, in bytes.
const MaxObjectNameLen = 1023

// CheckObjectName refuses what OSS itself refuses as an object name: empty,
// over 1023 bytes, not UTF-8, or starting with '/' or '\'. Objects picbed
// did not name (the inbox, where phones, Finder and sync tools drop
// ".DS_Store", "._IMG_1.jpg", "a//b.jpg" or names with backslashes and
// bidi marks) are read and deleted by the exact name OSS reported, held
// to these rules only; every name picbed writes also passes CheckKey.
func CheckObjectName(name string) error {
	bad := func(why string) error { return fmt.Errorf("invalid object name %q: %s", name, why) }
	switch {
	case name == "" || len(name) > MaxObjectNameLen:
		return bad("empty or longer than 1023 bytes")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case name[0] == '/' || name[0] == '\\':
		return bad("starts with a slash or backslash")
	}
	return nil
}

// checkObjectName is CheckObjectName as a 400 *Error.
func checkObjectName(name string) error {
	if err := CheckObjectName(name); err != nil {
		return &Error{Status: http.StatusBadRequest, Message: "invalid object name", Err: err}
	}
	return nil
}

// checkKey is CheckKey as the 400 *Error both stores answer with.
func checkKey(key string) error {
	if err := CheckKey(key); err != nil {
		return &Error{Status: http.StatusBadRequest, Message: "invalid object key", Err: err}
	}
	return nil
}
