// Package listing pages through uploads newest first on top of a store's
// native listing (key order, a start-after position), without reading the
// whole folder for every page.
//
// Recency comes from the key layout: with the default template
// img/{year}/{month}/..., the time folders sort as the times do, so the
// walk goes through them greatest first (one small delimiter listing per
// level) and reads only the folders the page needs. Inside one time folder
// the order is by modification time, newest first (ties by key), which
// needs that folder's keys: one LIST call per 1000 images of that month.
// A template without time folders ({hash}.{ext}) is read as one folder,
// up to MaxFolder objects.
//
// A Cursor is a position in that order, not an object: the next page
// starts after it even when its object was deleted meanwhile.
package listing

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"picbed/storage"
)

// Lister is the store's native listing.
type Lister interface {
	List(ctx context.Context, q storage.ListQuery) (storage.Listing, error)
}

// Layout is where uploads live: under Root, then TimeFolders folders of
// upload time (keys.Template.Prefix and TimeFolders).
type Layout struct {
	Root        string
	TimeFolders int
}

// MaxFolder bounds the objects read from one time folder (or, without
// time folders, from Root) to order them; past it the folder is cut and
// the cut is logged.
const MaxFolder = 100_000

// Cursor is the position after one listed object.
type Cursor struct {
	Modified time.Time
	Key      string
}

// String is the cursor as clients carry it (opaque, URL-safe).
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.Modified.UnixNano(), 10) + "~" + c.Key))
}

// ErrBadCursor is returned by ParseCursor for anything String did not make.
var ErrBadCursor = errors.New("not a listing cursor")

// ParseCursor reads what String wrote.
func ParseCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	ns, key, ok := strings.Cut(string(b), "~")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || key == "" {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{Modified: time.Unix(0, n), Key: key}, nil
}

// before reports whether o comes before (is newer than) c in the order.
func before(o storage.Object, c Cursor) bool {
	if !o.Modified.Equal(c.Modified) {
		return o.Modified.After(c.Modified)
	}
	return o.Key <= c.Key
}

// Page is one page of a listing.
type Page struct {
	Objects []storage.Object // Key, Size, Modified: what the listing carries
	Next    *Cursor          // nil on the last page
	Seen    int              // objects walked through up to the page's end, skipped ones included
}

// Newest lists up to limit objects newest first: after the cursor when
// after is set, else from the newest, leaving out the first skip (Lsky's
// page numbers: one walk serves page N, no walk per earlier page).
func Newest(ctx context.Context, l Lister, lay Layout, after *Cursor, skip, limit int) (Page, error) {
	w := walker{ctx: ctx, l: l, lay: lay, after: after, want: skip + limit + 1}
	if err := w.folder(lay.Root, 0); err != nil && !errors.Is(err, errEnough) {
		return Page{}, err
	}
	objs := w.got[min(skip, len(w.got)):]
	if len(objs) <= limit {
		return Page{Objects: objs, Seen: len(w.got)}, nil
	}
	last := objs[limit-1]
	return Page{Objects: objs[:limit], Next: &Cursor{Modified: last.Modified, Key: last.Key}, Seen: skip + limit}, nil
}

var errEnough = errors.New("enough objects")

type walker struct {
	ctx   context.Context
	l     Lister
	lay   Layout
	after *Cursor
	want  int
	got   []storage.Object
}

// folder walks prefix, level time folders below Root, greatest first.
func (w *walker) folder(prefix string, level int) error {
	if level == w.lay.TimeFolders {
		return w.read(prefix)
	}
	subs, err := w.subfolders(prefix)
	if err != nil {
		return err
	}
	for i := len(subs) - 1; i >= 0; i-- {
		sub := subs[i]
		// Folders newer than the cursor's were listed on earlier pages.
		if w.after != nil && sub > w.after.Key && !strings.HasPrefix(w.after.Key, sub) {
			continue
		}
		if err := w.folder(sub, level+1); err != nil {
			return err
		}
	}
	return nil
}

// subfolders lists the folders directly under prefix, in key order.
func (w *walker) subfolders(prefix string) ([]string, error) {
	var subs []string
	q := storage.ListQuery{Prefix: prefix, Delimiter: "/"}
	for {
		res, err := w.l.List(w.ctx, q)
		if err != nil {
			return nil, err
		}
		subs = append(subs, res.Prefixes...)
		if res.Next == "" {
			return subs, nil
		}
		q.Token = res.Next
	}
}

// read takes the objects of one time folder in order, after the cursor.
func (w *walker) read(prefix string) error {
	var objs []storage.Object
	q := storage.ListQuery{Prefix: prefix}
	for {
		res, err := w.l.List(w.ctx, q)
		if err != nil {
			return err
		}
		objs = append(objs, res.Objects...)
		if res.Next == "" {
			break
		}
		if len(objs) >= MaxFolder {
			slog.WarnContext(w.ctx, "listing: folder cut; newest first holds among its first objects in key order only", "prefix", prefix, "bound", MaxFolder)
			break
		}
		q.Token = res.Next
	}
	sort.Slice(objs, func(i, j int) bool {
		if !objs[i].Modified.Equal(objs[j].Modified) {
			return objs[i].Modified.After(objs[j].Modified)
		}
		return objs[i].Key < objs[j].Key
	})
	for _, o := range objs {
		if w.after != nil && strings.HasPrefix(w.after.Key, prefix) && before(o, *w.after) {
			continue
		}
		w.got = append(w.got, o)
		if len(w.got) >= w.want {
			return errEnough
		}
	}
	return nil
}
