package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"picbed/handler/extract"
	"picbed/handler/fetch"
	"picbed/imageproc"
)

// Bounds of one rehost request or webhook event.
const (
	rehostWorkers   = 4       // images fetched and processed at once
	rehostMaxImages = 200     // distinct images per document; the rest are listed with an error
	rehostMaxBody   = 4 << 20 // a document, not an image: 4 MiB is a very long post

	// remoteBudget bounds one request's remote fetching as a whole (a
	// rehost, a webhook event, a PicGo list of URLs), under the function's
	// 120 s timeout in s.yaml: images not done by then are answered with a
	// timeout error (rehost keeps their links) instead of the whole answer
	// being lost when Function Compute stops the invocation. Each fetch
	// also keeps its own limit (fetch.DefaultTimeout).
	remoteBudget = 100 * time.Second
)

// Rehosted is the outcome for one distinct source URL of a document: the
// new link, or why the old one was kept.
type Rehosted struct {
	Source string `json:"source"`
	URL    string `json:"url,omitempty"`
	Error  string `json:"error,omitempty"` // what went wrong, for a person
	Code   string `json:"code,omitempty"`  // the same error's code, for a script
}

// rehostRequest is the JSON body of POST /api/rehost.
type rehostRequest struct {
	Markdown *string `json:"markdown"`
	HTML     *string `json:"html"`
	Base     string  `json:"base"` // resolves relative image URLs
}

// rehost is POST /api/rehost: a Markdown or HTML document in, the same
// document out with every image moved here, plus one line per image.
func (h *Handler) rehost(w http.ResponseWriter, r *http.Request) error {
	o, err := h.parseOptions(r.URL.Query(), true)
	if err != nil {
		return err
	}
	doc, isHTML, base, err := readRehostBody(w, r)
	if err != nil {
		return err
	}
	var links []extract.Link
	if isHTML {
		links = extract.HTML(doc)
	} else {
		links = extract.Markdown(doc)
	}
	out, repl := h.rehostLinks(r.Context(), links, base, o.recipe)
	field := "markdown"
	if isHTML {
		field = "html"
	}
	out[field] = extract.Rewrite(doc, links, repl)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rehostLinks moves the images links point to here, within remoteBudget:
// the answer's per-image part, and each written link's new URL.
func (h *Handler) rehostLinks(ctx context.Context, links []extract.Link, base *url.URL, rc imageproc.Recipe) (map[string]any, map[string]string) {
	results, repl := h.rehostResults(ctx, links, base, rc)
	return rehostAnswer(results), repl
}

// rehostResults is rehostLinks with one result per source instead of the
// answer (write-back jobs record them).
func (h *Handler) rehostResults(ctx context.Context, links []extract.Link, base *url.URL, rc imageproc.Recipe) ([]Rehosted, map[string]string) {
	plan := h.planRehost(links, base)
	ctx, cancel := context.WithTimeout(ctx, remoteBudget)
	defer cancel()
	results := h.rehostAll(ctx, plan, rc)
	return results, plan.replacements(results)
}

// readRehostBody reads the document: JSON {"markdown"} / {"html"}, or a
// text/markdown, text/plain or text/html body.
func readRehostBody(w http.ResponseWriter, r *http.Request) (doc string, isHTML bool, base *url.URL, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	r.Body = http.MaxBytesReader(w, r.Body, rehostMaxBody)
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "too_large", "the document is over %d MiB; split it", rehostMaxBody>>20)
	switch ct {
	case "application/json":
		var req rehostRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return "", false, nil, tooLarge
			}
			return "", false, nil, errorf(http.StatusBadRequest, "bad_json", "the JSON body is malformed: %v; send {\"markdown\": \"...\"} or {\"html\": \"...\"}", err)
		}
		if (req.Markdown == nil) == (req.HTML == nil) {
			return "", false, nil, errorf(http.StatusBadRequest, "bad_json", "send exactly one of {\"markdown\": \"...\"} or {\"html\": \"...\"}")
		}
		if req.Base != "" {
			if base, err = url.Parse(req.Base); err != nil || !isHTTP(base.Scheme) || base.Host == "" {
				return "", false, nil, errorf(http.StatusBadRequest, "bad_option", "base %q must be an absolute http(s) URL", truncate(req.Base, 200))
			}
		}
		if req.HTML != nil {
			return *req.HTML, true, base, nil
		}
		return *req.Markdown, false, base, nil
	case "text/markdown", "text/x-markdown", "text/plain", "text/html":
		b, err := readAll(r.Body, rehostMaxBody)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Status == http.StatusRequestEntityTooLarge {
				return "", false, nil, tooLarge
			}
			return "", false, nil, err
		}
		return string(b), ct == "text/html", nil, nil
	}
	return "", false, nil, errorf(http.StatusUnsupportedMediaType, "unsupported_content_type", "Content-Type %q: send application/json {\"markdown\"|\"html\": ...}, text/markdown or text/html", ct)
}

// rehostPlan is what a document's links come to: the distinct URLs to
// fetch (in order of first appearance), the absolute URL each written
// link resolves to, and the links that cannot be fetched at all.
type rehostPlan struct {
	sources  []string          // absolute URLs to rehost
	resolved map[string]string // link.URL -> absolute URL
	failed   []Rehosted        // relative links without a base
}

// planRehost drops links that need no work (data: URLs, other schemes,
// images already under PICBED_PUBLIC_URL) and resolves relative ones
// against base.
func (h *Handler) planRehost(links []extract.Link, base *url.URL) rehostPlan {
	p := rehostPlan{resolved: map[string]string{}}
	seenLink, seenAbs := map[string]bool{}, map[string]bool{}
	for _, l := range links {
		if seenLink[l.URL] {
			continue
		}
		seenLink[l.URL] = true
		abs, ok := absoluteURL(l.URL, base)
		if !ok {
			if !strings.Contains(l.URL, ":") {
				p.failed = append(p.failed, Rehosted{Source: l.URL, Code: "relative_url",
					Error: "relative URL: the host it lives on is unknown; send \"base\" with the page's address"})
			}
			continue
		}
		if _, ours := h.ourKey(abs); ours {
			continue
		}
		p.resolved[l.URL] = abs
		if !seenAbs[abs] {
			seenAbs[abs] = true
			p.sources = append(p.sources, abs)
		}
	}
	return p
}

// absoluteURL resolves u against base; only http(s) results count.
func absoluteURL(u string, base *url.URL) (string, bool) {
	u = strings.TrimSpace(u)
	ref, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	if !ref.IsAbs() {
		switch {
		case base != nil:
			ref = base.ResolveReference(ref)
		case strings.HasPrefix(u, "//"):
			ref.Scheme = "https"
		default:
			return "", false
		}
	}
	if !isHTTP(ref.Scheme) || ref.Host == "" {
		return "", false
	}
	return ref.String(), true
}

// replacements maps each written link to its new URL, for the sources
// that were rehosted.
func (p rehostPlan) replacements(results []Rehosted) map[string]string {
	byAbs := map[string]string{}
	for _, r := range results {
		if r.URL != "" {
			byAbs[r.Source] = r.URL
		}
	}
	repl := map[string]string{}
	for written, abs := range p.resolved {
		if nu, ok := byAbs[abs]; ok {
			repl[written] = nu
		}
	}
	return repl
}

// rehostAll fetches and stores every source, rehostWorkers at a time, and
// reports each in the order given. Sources past rehostMaxImages are
// listed with an error and keep their links: the caller can send them
// again in another request.
func (h *Handler) rehostAll(ctx context.Context, p rehostPlan, rc imageproc.Recipe) []Rehosted {
	out := make([]Rehosted, len(p.sources))
	sem := make(chan struct{}, rehostWorkers)
	var wg sync.WaitGroup
	for i, src := range p.sources {
		out[i].Source = src
		if i >= rehostMaxImages {
			out[i].Code = "too_many_images"
			out[i].Error = fmt.Sprintf("over the limit of %d images per request; send the rest in another request", rehostMaxImages)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			u, err := h.rehostOne(ctx, src, rc)
			if err != nil {
				e := classify(err)
				lvl := slog.LevelInfo // the origin's fault, or the image's
				if e.Status == http.StatusInternalServerError {
					lvl = slog.LevelError // ours
				}
				logFrom(ctx).Log(ctx, lvl, "rehost failed", "source", redact(src), "status", e.Status, "code", e.Code, "err", redact(err.Error()))
				out[i].Code, out[i].Error = e.Code, e.Message
				return
			}
			out[i].URL = u.URL
		}()
	}
	wg.Wait()
	return append(p.failed, out...)
}

// rehostOne moves one image here; its origin names the source URL.
func (h *Handler) rehostOne(ctx context.Context, src string, rc imageproc.Recipe) (u *Uploaded, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic rehosting an image: %v", p)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img, err := h.fetchImage(ctx, src)
	if err != nil {
		return nil, err
	}
	return h.ingest(ctx, img, rc, "rehost:"+src)
}

// rehostAnswer is the common part of the rehost and webhook answers.
func rehostAnswer(results []Rehosted) map[string]any {
	ok := 0
	for _, r := range results {
		if r.URL != "" {
			ok++
		}
	}
	shown := make([]Rehosted, len(results)) // a copy: the caller maps sources to links
	for i, r := range results {
		r.Source = fetch.StripUserinfo(r.Source)
		shown[i] = r
	}
	return map[string]any{"images": shown, "rehosted": ok, "failed": len(results) - ok}
}
