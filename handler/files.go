package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"picbed/storage"
)

// serveFile is GET /f/{key...} in local mode: the stored bytes with the
// headers OSS would send (see writeImage); with ?w=N, the variant N px
// wide (variants.go).
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if storage.CheckKey(key) != nil || strings.HasPrefix(key, jobRecords) {
		return errorf(http.StatusNotFound, "not_found", "no such image")
	}
	if r.URL.Query().Has("w") {
		return h.serveVariant(w, r, key)
	}
	b, o, err := h.store.Get(r.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such image")
	}
	if err != nil {
		return err
	}
	writeImage(w, r, b, o.ContentType, o)
	return nil
}

// writeImage answers image bytes with the headers OSS would send, plus
// nosniff and a CSP that stops an image from ever running as a document.
func writeImage(w http.ResponseWriter, r *http.Request, b []byte, contentType string, o storage.Object) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Cache-Control", storage.CacheControl)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("ETag", `"`+etag(b)+`"`)
	http.ServeContent(w, r, "", o.Modified, bytes.NewReader(b))
}

func etag(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}
