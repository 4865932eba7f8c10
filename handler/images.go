package handler

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"picbed/handler/variant"
	"picbed/imageproc"
	"picbed/storage"
)

// The management API: the page's "recent uploads" gallery and scripts list
// and delete uploads. Only keys under the key template's folder are ever
// listed or deleted, so a token cannot reach the OSS inbox or anything else
// that shares the bucket.

// Listed is one upload in GET /api/images.
type Listed struct {
	Key       string           `json:"key"`
	URL       string           `json:"url"`
	Markdown  string           `json:"markdown"`
	HTML      string           `json:"html"`
	Thumbnail string           `json:"thumbnail"`
	Variants  []variant.Link   `json:"variants"`
	Size      int64            `json:"size"`
	Time      time.Time        `json:"time"`
	Width     int              `json:"width,omitempty"`
	Height    int              `json:"height,omitempty"`
	Format    imageproc.Format `json:"format,omitempty"`
	Name      string           `json:"name,omitempty"`
}

// The page size of listings: default and largest.
const (
	defaultListLimit = 30
	maxListLimit     = 100
)

// listImages is GET /api/images?limit=&cursor=: uploads newest first, with
// next_cursor ("" on the last page).
func (h *Handler) listImages(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := listLimit(q.Get("limit"), "limit")
	if err != nil {
		return err
	}
	cursor := q.Get("cursor")
	if cursor != "" {
		if err := h.checkManagedKey(cursor); err != nil {
			return errorf(http.StatusBadRequest, "bad_cursor", "cursor must be the next_cursor of a previous page")
		}
	}
	objs, next, err := h.store.List(r.Context(), h.cfg.KeyTemplate.Prefix(), cursor, limit)
	if err != nil {
		return err
	}
	h.describe(r.Context(), objs)
	out := make([]Listed, 0, len(objs))
	for _, o := range objs {
		out = append(out, h.listed(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"images": out, "next_cursor": next})
	return nil
}

// describeConcurrency bounds the HEAD requests describe makes at once.
const describeConcurrency = 8

// describe fills in what a listing lacks: an OSS listing carries neither
// the content type nor picbed's metadata (size in pixels, file name), so
// each such object of the page is looked up (one HEAD each, a few at a
// time). An object that cannot be looked up keeps what the listing said.
func (h *Handler) describe(ctx context.Context, objs []storage.Object) {
	sem := make(chan struct{}, describeConcurrency)
	var wg sync.WaitGroup
	for i := range objs {
		if objs[i].ContentType != "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(o *storage.Object) {
			defer func() { <-sem; wg.Done() }()
			if full, err := h.store.Stat(ctx, o.Key); err == nil {
				o.ContentType, o.Meta = full.ContentType, full.Meta
			}
		}(&objs[i])
	}
	wg.Wait()
}

// listLimit parses a page size: empty is the default, anything else must
// be 1..maxListLimit.
func listLimit(s, name string) (int, error) {
	if s == "" {
		return defaultListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListLimit {
		return 0, errorf(http.StatusBadRequest, "bad_option", "%s=%q must be a whole number from 1 to %d", name, s, maxListLimit)
	}
	return n, nil
}

// listed describes a stored object from its metadata.
func (h *Handler) listed(o storage.Object) Listed {
	u := h.fromObject(o, storedName(o))
	return Listed{Key: o.Key, URL: u.URL, Markdown: u.Markdown, HTML: u.HTML, Thumbnail: u.Thumbnail, Variants: u.Variants,
		Size: o.Size, Time: o.Modified.UTC(), Width: u.Width, Height: u.Height, Format: u.Format, Name: u.Name}
}

// storedName is the client's file name kept in the object's metadata.
func storedName(o storage.Object) string {
	name, _ := url.QueryUnescape(o.Meta["picbed-name"])
	return name
}

// deleteImageRoute is DELETE /api/images/{key...}.
func (h *Handler) deleteImageRoute(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if err := h.checkManagedKey(key); err != nil {
		return err
	}
	if err := h.deleteImage(r, key); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": key})
	return nil
}

// checkManagedKey refuses a malformed key (400) and one outside the key
// template's folder (403).
func (h *Handler) checkManagedKey(key string) error {
	if storage.CheckKey(key) != nil {
		return errorf(http.StatusBadRequest, "bad_key", "%q is not a valid image key", truncate(key, 100))
	}
	if !h.published(key) {
		return errorf(http.StatusForbidden, "forbidden", "only images under %q can be managed here", h.cfg.KeyTemplate.Prefix())
	}
	return nil
}

// published tells whether key is under the key template's folder, where
// picbed writes what it publishes. Only those keys are listed, deleted or
// copied by upload-by-URL: the inbox and anything else sharing the bucket
// stay out of reach of every route.
func (h *Handler) published(key string) bool {
	p := h.cfg.KeyTemplate.Prefix()
	return p != "" && strings.HasPrefix(key, p)
}

// deleteImage deletes key, answering 404 when it does not exist (storage
// deletes of missing objects succeed silently, which would hide a typo).
func (h *Handler) deleteImage(r *http.Request, key string) error {
	if _, err := h.store.Stat(r.Context(), key); err != nil {
		return notFoundImage(err)
	}
	return h.store.Delete(r.Context(), key)
}
