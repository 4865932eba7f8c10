package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"picbed/handler/extract"
	"picbed/handler/webhooksig"
)

// Bounds of one webhook event.
const (
	webhookMaxBody     = 2 << 20 // a post with html, lexical and its previous version
	webhookNestedDepth = 3       // JSON inside JSON strings (lexical, mobiledoc) looked into
)

// webhook is POST /webhook: a blog CMS tells picbed about a post; every
// image in it that is not already here is rehosted, and the answer maps
// old links to new ones (with the rewritten document when the payload
// carried one in a known field).
func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) error {
	secret := h.cfg.WebhookSecret
	if secret == "" {
		return errorf(http.StatusServiceUnavailable, "webhook_disabled", "webhooks are off: set PICBED_WEBHOOK_SECRET (16+ characters) on the server and give your CMS the same secret")
	}
	scheme := webhooksig.Detect(r.Header)
	switch scheme {
	case webhooksig.None:
		return errorf(http.StatusUnauthorized, "unauthorized", "unsigned webhook: send X-Ghost-Signature, X-Hub-Signature-256 or X-WP-Webhook-Signature made with PICBED_WEBHOOK_SECRET, or 'Authorization: Bearer <secret>'")
	case webhooksig.Bearer:
		// Nothing in the body is needed to check a static header: refuse
		// strangers before reading a byte of it.
		if err := verifyWebhook(webhooksig.Bearer, r.Header, nil, secret, h.now()); err != nil {
			return err
		}
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, webhookMaxBody), webhookMaxBody)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusRequestEntityTooLarge {
			return errorf(http.StatusRequestEntityTooLarge, "too_large", "the webhook body is over %d MiB", webhookMaxBody>>20)
		}
		return err
	}
	if err := verifyWebhook(scheme, r.Header, body, secret, h.now()); err != nil {
		return err
	}
	payload, err := decodeJSON(body)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_json", "the webhook body is not JSON: %v", err)
	}
	// A configured CMS's webhook becomes a write-back job (jobs.go),
	// answered at once.
	if handled, err := h.cmsWebhook(w, r, body, payload); handled {
		return err
	}
	o, err := h.parseOptions(r.URL.Query(), true)
	if err != nil {
		return err
	}

	var links []extract.Link
	walkStrings(payload, "", 0, func(key, s string) { links = append(links, stringLinks(key, s)...) })
	// Rehosting goes on after a CMS hangs up (Ghost waits 2 s, then
	// retries; the retry finds the images stored).
	out, repl := h.rehostLinks(context.WithoutCancel(r.Context()), links, payloadBase(payload), o.recipe)
	for field, v := range documents(payload) {
		out[field] = rewriteString(field, v, repl, 0)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verifyWebhook checks the request's proof, answering 401 bad_signature
// with what was wrong with it.
func verifyWebhook(scheme webhooksig.Scheme, hd http.Header, body []byte, secret string, now time.Time) error {
	if err := webhooksig.Verify(scheme, hd, body, secret, now); err != nil {
		return errorf(http.StatusUnauthorized, "bad_signature", "%s", err.Error())
	}
	return nil
}

// decodeJSON reads one JSON value, numbers kept as written.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// walkStrings calls fn for every string of a JSON value with the name of
// the object key it sits under (array elements inherit it). A CMS's
// "previous" version of a post is not walked: its images are the ones
// the post no longer has.
func walkStrings(v any, key string, depth int, fn func(key, s string)) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the answer lists images in a stable order
		for _, k := range keys {
			if k != "previous" {
				walkStrings(v[k], k, depth, fn)
			}
		}
	case []any:
		for _, e := range v {
			walkStrings(e, key, depth, fn)
		}
	case string:
		if nested, ok := nestedJSON(v, depth); ok {
			walkStrings(nested, key, depth+1, fn)
			return
		}
		fn(key, v)
	}
}

// nestedJSON decodes a string that is itself a JSON document (Ghost's
// lexical and mobiledoc fields are).
func nestedJSON(s string, depth int) (any, bool) {
	t := strings.TrimSpace(s)
	if depth >= webhookNestedDepth || len(t) < 2 || !(t[0] == '{' && t[len(t)-1] == '}' || t[0] == '[' && t[len(t)-1] == ']') {
		return nil, false
	}
	v, err := decodeJSON([]byte(t))
	return v, err == nil
}

// stringLinks finds the images in one string of a payload: the whole
// string when it is a URL under an image-ish key (Ghost's feature_image,
// a lexical image node's src), else the images written in it as HTML
// (under an "html" key) or as Markdown with inline HTML.
func stringLinks(key, s string) []extract.Link {
	if imageKey(key) {
		if t := strings.TrimSpace(s); strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
			return []extract.Link{{Start: 0, End: len(s), Text: s, URL: t}}
		}
	}
	if strings.EqualFold(key, "html") {
		return extract.HTML(s)
	}
	return extract.Markdown(s)
}

// imageKey tells a key whose value is an image URL on its own.
func imageKey(key string) bool {
	k := strings.ToLower(key)
	return k == "src" || k == "image" || k == "images" || strings.HasSuffix(k, "thumbnail") ||
		strings.HasSuffix(k, "_image") || strings.HasSuffix(k, "image_url") || strings.HasSuffix(k, "imageurl")
}

// rewriteString gives s with its image links replaced; a nested JSON
// document is decoded, rewritten and encoded again (only when something
// changed, so an untouched one keeps its exact bytes).
func rewriteString(key, s string, repl map[string]string, depth int) string {
	if nested, ok := nestedJSON(s, depth); ok {
		v, changed := rewriteValue(nested, key, repl, depth+1)
		if !changed {
			return s
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return s
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	links := stringLinks(key, s)
	if len(links) == 1 && links[0].Start == 0 && links[0].End == len(s) && links[0].Kind == extract.KindMarkdown && imageKey(key) {
		if nu, ok := repl[links[0].URL]; ok {
			return nu
		}
	}
	return extract.Rewrite(s, links, repl)
}

func rewriteValue(v any, key string, repl map[string]string, depth int) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		changed := false
		for k, e := range v {
			if nv, c := rewriteValue(e, k, repl, depth); c {
				v[k], changed = nv, true
			}
		}
		return v, changed
	case []any:
		changed := false
		for i, e := range v {
			if nv, c := rewriteValue(e, key, repl, depth); c {
				v[i], changed = nv, true
			}
		}
		return v, changed
	case string:
		ns := rewriteString(key, v, repl, depth)
		return ns, ns != v
	}
	return v, false
}

// documents finds the post bodies a payload carries in the fields picbed
// knows: Ghost's post/page.current.html, .mobiledoc and .lexical, WP
// Webhooks' post.post_content, or top-level markdown, html and content. The answer repeats them rewritten.
func documents(payload any) map[string]string {
	out := map[string]string{}
	top, _ := payload.(map[string]any)
	for _, kind := range []string{"post", "page"} {
		obj, _ := top[kind].(map[string]any)
		cur, _ := obj["current"].(map[string]any)
		for _, f := range []string{"html", "mobiledoc", "lexical"} {
			if s, ok := cur[f].(string); ok && out[f] == "" {
				out[f] = s
			}
		}
	}
	for _, f := range []string{"markdown", "html", "content"} {
		if s, ok := top[f].(string); ok && out[f] == "" {
			out[f] = s
		}
	}
	if post, ok := top["post"].(map[string]any); ok { // WP Webhooks: post.post_content
		if s, ok := post["post_content"].(string); ok {
			out["post_content"] = s
		}
	}
	return out
}

// payloadBase is the address of the post (Ghost's post.current.url, or a
// top-level url), against which relative image links resolve.
func payloadBase(payload any) *url.URL {
	top, _ := payload.(map[string]any)
	candidates := []any{top["url"]}
	for _, kind := range []string{"post", "page"} {
		obj, _ := top[kind].(map[string]any)
		cur, _ := obj["current"].(map[string]any)
		candidates = append(candidates, cur["url"])
	}
	for _, c := range candidates {
		if s, ok := c.(string); ok {
			if u, err := url.Parse(s); err == nil && isHTTP(u.Scheme) && u.Host != "" {
				return u
			}
		}
	}
	return nil
}
