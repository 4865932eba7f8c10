package handler

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"picbed/handler/listing"
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
	var after *listing.Cursor
	if s := q.Get("cursor"); s != "" {
		c, err := listing.ParseCursor(s)
		if err != nil || h.checkManagedKey(c.Key) != nil {
			return errorf(http.StatusBadRequest, "bad_cursor", "cursor must be the next_cursor of a previous page")
		}
		after = &c
	}
	page, err := h.newest(r.Context(), after, 0, limit)
	if err != nil {
		return err
	}
	h.describe(r.Context(), page.Objects)
	out := make([]Listed, 0, len(page.Objects))
	for _, o := range page.Objects {
		out = append(out, h.listed(o))
	}
	next := ""
	if page.Next != nil {
		next = page.Next.String()
	}
	writeJSON(w, http.StatusOK, map[string]any{"images": out, "next_cursor": next})
	return nil
}

// newest is one page of uploads, newest first (handler/listing), from
// what the store's listing carries: key, size and time, no HEAD per image.
func (h *Handler) newest(ctx context.Context, after *listing.Cursor, skip, limit int) (listing.Page, error) {
	lay := listing.Layout{Root: h.cfg.KeyTemplate.Prefix(), TimeFolders: h.cfg.KeyTemplate.TimeFolders()}
	return listing.Newest(ctx, h.store, lay, after, skip, limit)
}

// describeConcurrency bounds the HEAD requests describe makes at once.
const describeConcurrency = 8

// describe adds to the page's objects what the gallery shows and no
// listing carries: the object's metadata (file name, pixel sizes, which
// the thumbnail and variants depend on). Only the page's objects are
// looked up, a few at a time; size, time and order come from the listing.
// An object that cannot be looked up keeps what the listing said.
func (h *Handler) describe(ctx context.Context, objs []storage.Object) {
	sem := make(chan struct{}, describeConcurrency)
	var wg sync.WaitGroup
	for i := range objs {
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

// formatOfKey is the format of a stored image from its key's extension
// (keys end in the output format's Ext), for listings, which carry no
// Content-Type.
func formatOfKey(key string) imageproc.Format {
	switch strings.ToLower(path.Ext(key)) {
	case ".jpg", ".jpeg":
		return imageproc.JPEG
	case ".png":
		return imageproc.PNG
	case ".gif":
		return imageproc.GIF
	case ".webp":
		return imageproc.WebP
	}
	return ""
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

// listed describes a listed object: what the listing carries (key, size,
// time), the format (its Content-Type, else its key's extension) and, when
// describe looked it up, its metadata (pixel sizes, the file name).
func (h *Handler) listed(o storage.Object) Listed {
	u := h.fromListed(o)
	return Listed{Key: o.Key, URL: u.URL, Markdown: u.Markdown, HTML: u.HTML, Thumbnail: u.Thumbnail, Variants: u.Variants,
		Size: o.Size, Time: o.Modified.UTC(), Width: u.Width, Height: u.Height, Format: u.Format, Name: u.Name}
}

// fromListed is fromObject for a listed (and described) object: the
// format from its key when the Content-Type is unknown.
func (h *Handler) fromListed(o storage.Object) *Uploaded {
	if o.ContentType == "" {
		if f := formatOfKey(o.Key); f != "" {
			o.ContentType = f.MIME()
		}
	}
	return h.fromObject(o, storedName(o))
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
