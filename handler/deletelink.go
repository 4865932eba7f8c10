package handler

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"picbed/handler/webhooksig"
	"sort"
	"strings"

	"picbed/storage"
)

// Delete links let whoever holds one delete that one image, with no
// database: the link carries an HMAC-SHA256 of the key under a secret only
// the server knows. ShareX (and ImgBB-style clients) open the link in a
// browser, so GET shows a small confirmation form and only its POST (or a
// DELETE from a script) deletes; a link preview or prefetch deletes nothing.

// deleteLinkPrefix is the route of delete links; routeName hides what
// follows it from the logs.
const deleteLinkPrefix = "/api/1/delete/"

// deleteLinkKey is the MAC key of delete links: PICBED_DELETE_SECRET when
// set, else derived from the upload tokens given in clear (so rotating
// every token also voids old delete links). A sha256: digest of a token
// is no key: it sits in configuration dumps and logs, and anyone holding
// it could sign links. Nil when there is no key (anonymous mode, or only
// digests, without a secret): delete links are then off. New derives it once.
func deleteLinkKey(cfg Config) []byte {
	secret := cfg.DeleteSecret
	if secret == "" {
		var ts []string
		for _, t := range cfg.Tokens {
			if !strings.HasPrefix(t, webhooksig.DigestPrefix) {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			return nil
		}
		sort.Strings(ts)
		secret = strings.Join(ts, "\x00")
	}
	m := hmac.New(sha256.New, []byte("picbed delete-link v1"))
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// deleteMAC is the HMAC-SHA256 of key under macKey.
func deleteMAC(macKey []byte, key string) []byte {
	m := hmac.New(sha256.New, macKey)
	m.Write([]byte("delete\x00"))
	m.Write([]byte(key))
	return m.Sum(nil)
}

// deleteSig is the signature of key: base64url HMAC-SHA256, 43 characters.
func deleteSig(macKey []byte, key string) string {
	return base64.RawURLEncoding.EncodeToString(deleteMAC(macKey, key))
}

// validDeleteSig checks sig against key in constant time.
func validDeleteSig(macKey []byte, key, sig string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(macKey) == 0 {
		return false
	}
	return hmac.Equal(got, deleteMAC(macKey, key))
}

// deleteURL is the absolute delete link of key as seen by the client of r,
// or "" when delete links are off.
func (h *Handler) deleteURL(r *http.Request, key string) string {
	if h.deleteKey == nil {
		return ""
	}
	return selfURL(r) + deleteLinkPrefix + escapeKey(key) + "?sig=" + deleteSig(h.deleteKey, key)
}

// selfURL is the scheme and host the client used to reach picbed (a custom
// domain on FC, the listen address locally).
func selfURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// escapeKey escapes each segment of key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// checkDeleteLink verifies the key and signature of a delete-link request.
func (h *Handler) checkDeleteLink(r *http.Request) (string, error) {
	if h.deleteKey == nil {
		return "", errorf(http.StatusNotFound, "delete_links_off", "delete links are off on this server (no token and no PICBED_DELETE_SECRET)")
	}
	key := r.PathValue("key")
	sig := r.URL.Query().Get("sig")
	if sig == "" {
		sig = r.PostFormValue("sig")
	}
	if !validDeleteSig(h.deleteKey, key, sig) {
		return "", errorf(http.StatusForbidden, "bad_delete_link", "this delete link is not valid: it was altered, or the server's secret changed")
	}
	if err := h.checkManagedKey(key); err != nil {
		return "", err
	}
	return key, nil
}

// deleteLinkPage is the confirmation page a delete link opens.
var deleteLinkPage = template.Must(template.New("delete").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Done}}Deleted{{else if .Title}}{{.Title}}{{else}}Delete this image?{{end}} · picbed</title><link rel="stylesheet" href="/assets/app.css"></head>
<body class="confirm"><main>
{{if .Done}}<h1>Deleted</h1><p>The image <code>{{.Key}}</code> is gone. Copies that a CDN or a browser already cached may stay until their cache expires.</p>
{{else if .Title}}<h1>{{.Title}}</h1><p class="msg error">{{.Message}}</p>
{{else}}<h1>Delete this image?</h1>
<p><img src="{{.URL}}" alt="" class="confirm-thumb"></p>
<p><code>{{.Key}}</code></p>
<form method="post" action="{{.Action}}"><input type="hidden" name="sig" value="{{.Sig}}">
<button type="submit" class="danger">Delete it</button></form>{{end}}
</main></body></html>`))

type deletePageData struct {
	Done                  bool
	Key, URL, Action, Sig string
	Title, Message        string // a failure: what went wrong, for a person
}

// linkRoute is route for delete links, which people open in a browser: a
// failure is a small HTML page like the confirmation page ("already
// deleted"), and the JSON error only for a script: a DELETE, or a request
// that asks for JSON (Accept: application/json, not text/html).
func (h *Handler) linkRoute(fn routeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		accept := r.Header.Get("Accept")
		if r.Method == http.MethodDelete || (strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")) {
			writeError(w, r, err)
			return
		}
		e := failed(w, r, err)
		title := "This delete link did not work"
		switch e.Status {
		case http.StatusNotFound:
			title = "Already deleted"
		case http.StatusForbidden:
			title = "This delete link is not valid"
		}
		h.writeDeletePage(w, e.Status, deletePageData{Title: title, Message: e.Message})
	})
}

// deleteLinkConfirm is GET /api/1/delete/{key...}?sig=: the confirmation
// page (nothing is deleted by a GET).
func (h *Handler) deleteLinkConfirm(w http.ResponseWriter, r *http.Request) error {
	key, err := h.checkDeleteLink(r)
	if err != nil {
		return err
	}
	o, err := h.store.Stat(r.Context(), key)
	if err != nil {
		return notFoundImage(err)
	}
	return h.writeDeletePage(w, http.StatusOK, deletePageData{Key: key, URL: h.fromObject(o, "").Thumbnail,
		Action: deleteLinkPrefix + escapeKey(key), Sig: r.URL.Query().Get("sig")})
}

// deleteLinkDelete is POST (the form) or DELETE (a script) on a delete link.
func (h *Handler) deleteLinkDelete(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	key, err := h.checkDeleteLink(r)
	if err != nil {
		return err
	}
	if err := h.deleteImage(r, key); err != nil {
		return err
	}
	if r.Method == http.MethodDelete {
		writeJSON(w, http.StatusOK, map[string]string{"deleted": key})
		return nil
	}
	return h.writeDeletePage(w, http.StatusOK, deletePageData{Done: true, Key: key})
}

func (h *Handler) writeDeletePage(w http.ResponseWriter, status int, d deletePageData) error {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src "+h.imgSources()+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	var b bytes.Buffer
	if err := deleteLinkPage.Execute(&b, d); err != nil {
		return err
	}
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}

// notFoundImage turns a storage miss into a 404 and passes other errors on.
func notFoundImage(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such image (already deleted?)")
	}
	return err
}
