package handler

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"picbed/handler/fetch"
	"picbed/storage"
)

// WithFetchOptions builds the remote fetcher from o instead of the
// defaults (a zero MaxBytes becomes PICBED_MAX_BYTES). Tests use it to
// allow loopback origins (fetch.Options{AllowLoopback: true}), shorten
// timeouts or replace the resolver; no environment variable can.
func WithFetchOptions(o fetch.Options) Option {
	return func(h *Handler) { h.fetchOpts = o }
}

// remoteFetcher is what the handler needs of fetch.Fetcher.
type remoteFetcher interface {
	Get(ctx context.Context, rawURL string) (*fetch.Result, error)
}

func newFetcher(cfg Config, o fetch.Options) *fetch.Fetcher {
	if o.MaxBytes == 0 {
		o.MaxBytes = cfg.MaxBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = "picbed/" + Version + " (image host; fetching an image a user linked)"
	}
	o.Deny = append(o.Deny, cfg.FetchDeny...)
	return fetch.New(o)
}

// fetchImage downloads an image by URL with the SSRF-safe fetcher. The
// bytes are not trusted here: ingest sniffs them like any upload, so an
// HTML or SVG answer is a 415 whatever its Content-Type said.
//
// A URL under PICBED_PUBLIC_URL is one of ours: it is read from the store
// instead of fetched (on local mode it is a loopback URL the fetcher would
// refuse, and on OSS there is no point going out and back in), and then
// processed with the request's options like any other upload. Only a key
// picbed publishes (under the key template's folder) is read that way: a
// link into the inbox is refused, not copied into public view.
func (h *Handler) fetchImage(ctx context.Context, rawURL string) (image, error) {
	rawURL = strings.TrimSpace(rawURL)
	if key, ok := h.ourKey(rawURL); ok {
		if err := storage.CheckKey(key); err != nil {
			return image{}, errorf(http.StatusBadRequest, "bad_url", "%q is under this server's public URL but names no valid object key", truncate(rawURL, 200))
		}
		if !h.published(key) {
			return image{}, errorf(http.StatusForbidden, "forbidden", "%q is under this server's public URL but outside the folder it publishes (%q): only published images can be copied by URL", truncate(rawURL, 200), h.cfg.KeyTemplate.Prefix())
		}
		data, _, err := h.store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return image{}, errorf(http.StatusNotFound, "not_found", "%q is under this server's public URL but no image is stored there", truncate(rawURL, 200))
		}
		if err != nil {
			return image{}, err
		}
		return image{data: data, name: path.Base(key)}, nil
	}
	f := h.fetcher
	if ctx.Value(jobFetchKey{}) != nil {
		f = h.jobFetcher
	}
	res, err := f.Get(ctx, rawURL)
	if err != nil {
		return image{}, err
	}
	return image{data: res.Data, name: nameFromURL(res.URL)}, nil
}

// nameFromURL is the last path segment, the file name hint for {name}.
func nameFromURL(u *url.URL) string {
	if u == nil {
		return "image"
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		return "image"
	}
	return name
}

// ourKey tells whether rawURL points under PICBED_PUBLIC_URL and, if so,
// the object key it names. http and https count as the same site.
func (h *Handler) ourKey(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", false
	}
	pub, err := url.Parse(h.cfg.PublicURL)
	if err != nil {
		return "", false
	}
	if !isHTTP(u.Scheme) || !isHTTP(pub.Scheme) || !strings.EqualFold(u.Host, pub.Host) {
		return "", false
	}
	prefix := strings.TrimSuffix(pub.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, prefix) {
		return "", false
	}
	key := strings.TrimPrefix(u.Path, prefix)
	return key, key != ""
}

func isHTTP(scheme string) bool {
	return strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https")
}

// jobFetchKey marks a write-back job's context: its fetches may reach the
// configured CMS origins (jobFetcher), nobody else's.
type jobFetchKey struct{}

func withJobFetcher(ctx context.Context) context.Context {
	return context.WithValue(ctx, jobFetchKey{}, true)
}
