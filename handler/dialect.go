package handler

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"picbed/imageproc"
)

// Client dialects: PicGo-Server, Lsky Pro and Chevereto speak their own
// request and answer shapes, but every one of them ends in the same
// pipeline (readImages / ingestAll) with the same tokens. Each dialect
// writes its failures in its own shape, so the client shows the message.

// dialectRoute is route for a dialect: fn's error is classified and logged
// like any other, then written by write in the dialect's shape.
func (h *Handler) dialectRoute(fn routeFunc, write func(w http.ResponseWriter, e *Error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		write(w, failed(w, r, err))
	})
}

// dialectRecipe is the recipe with the picbed options a dialect takes from
// its query string (names; a dialect's own parameters, like Chevereto's
// format=json, are not among them). Like /upload, a client may tighten the
// server's limits, never loosen them.
func (h *Handler) dialectRecipe(q url.Values, names ...string) (imageproc.Recipe, error) {
	v := url.Values{}
	for _, n := range names {
		if q.Has(n) {
			v[n] = q[n]
		}
	}
	o, err := h.parseOptions(v, false)
	return o.recipe, err
}

// readDialect reads the images of a dialect request: multipart (every file
// part, whatever its field name), a raw image body, or an
// application/x-www-form-urlencoded form (whose fields may hold URLs or
// base64). JSON bodies differ per dialect and are read by each dialect.
// It returns the non-file fields too.
func (h *Handler) readDialect(w http.ResponseWriter, r *http.Request) ([]image, url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return h.readImages(w, r)
	}
	if err := h.limitBody(w, r, h.cfg.MaxBytes/3*4+formOverhead); err != nil {
		return nil, nil, err
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, h.tooLarge()
		}
		return nil, nil, errorf(http.StatusBadRequest, "bad_form", "the form body is malformed")
	}
	return nil, r.PostForm, nil
}

// sourceImage reads an image given as text: an http(s) URL (fetched with
// the SSRF-safe fetcher), a data: URL or plain base64.
func (h *Handler) sourceImage(ctx context.Context, s, name string) (image, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return h.fetchImage(ctx, s)
	}
	return h.base64Image(s, name)
}

// stem is a file name without its extension.
func stem(name string) string { return strings.TrimSuffix(name, path.Ext(name)) }
