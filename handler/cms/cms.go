// Package cms writes picbed's links back into the blog a post lives in:
// Ghost (Admin API), WordPress (REST API with an Application Password) and
// Git-based blogs on GitHub or Gitea (contents API). A webhook names a
// piece of content; a connector reads it from the configured CMS, hands its
// texts to a Rewriter (picbed's extractor, fetcher and store), and writes
// the result back with the CMS's own conflict check.
//
// Connectors only ever talk to the base URL the operator configured, with
// ids taken from the webhook payload; nothing in a payload names where to
// write. Credentials live in the connector and never appear in an error.
package cms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Target is one piece of content a webhook names on the configured CMS.
// It holds ids only; where to write comes from configuration.
type Target struct {
	CMS     string   `json:"cms"`               // ghost | wordpress | git
	Kind    string   `json:"kind,omitempty"`    // ghost/wordpress: posts | pages
	ID      string   `json:"id,omitempty"`      // ghost/wordpress post id
	Repo    string   `json:"repo,omitempty"`    // git: owner/name
	Branch  string   `json:"branch,omitempty"`  // git: the pushed branch
	Paths   []string `json:"paths,omitempty"`   // git: added/modified files matching PICBED_GIT_PATHS
	Version string   `json:"version,omitempty"` // updated_at, modified_gmt or the pushed commit: what the webhook saw
}

// Key names the content a Target points to plus the version the webhook
// saw: a CMS retry of the same event has the same key (and so the same
// job), a later edit a new one.
func (t Target) Key() string {
	return strings.Join([]string{t.CMS, t.Kind, t.ID, t.Repo, t.Branch, strings.Join(t.Paths, "\x00"), t.Version}, "\x01")
}

// Doc is one text of a piece of content that may hold images. Field names
// what it is, which tells its syntax: "html", "markdown", "lexical" and
// "mobiledoc" (JSON documents), or an image field such as "feature_image"
// whose whole value is a URL.
type Doc struct {
	Field string
	Text  string
}

// Image is what happened to one image source of a run.
type Image struct {
	Source string `json:"source"`
	URL    string `json:"url,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
}

// Rewriter moves the images of docs here and returns the docs rewritten
// (same order; a doc with nothing to change comes back byte for byte) and
// one Image per distinct source. Images already under picbed's public URL
// are not sources: a document that only has those comes back unchanged
// with no Images. base resolves relative links ("" when unknown).
type Rewriter interface {
	Rewrite(ctx context.Context, docs []Doc, base string) ([]string, []Image)
}

// Report is what a run did, for the job record.
type Report struct {
	Images    []Image  `json:"images"`
	Written   bool     `json:"written"`             // the content was written back
	Conflicts int      `json:"conflicts,omitempty"` // edits in between that made it read again
	Files     []string `json:"files,omitempty"`     // git: the files rewritten
	Commit    string   `json:"commit,omitempty"`    // git: the commit written
	Note      string   `json:"note,omitempty"`      // why nothing was written, for a person
}

// maxAttempts bounds read-rewrite-write rounds when the content keeps
// changing under picbed (a person editing, or another writer).
const maxAttempts = 4

// Error is a failure with the HTTP status it deserves (400 for a payload
// that names nothing usable, 502 for a CMS that refused) and a message for
// a person. Transient is true when trying the same job later may succeed
// (the CMS was down or answered 5xx).
type Error struct {
	Status    int
	Code      string
	Message   string
	Transient bool
}

func (e *Error) Error() string         { return e.Code + ": " + e.Message }
func (e *Error) HTTPStatus() int       { return e.Status }
func (e *Error) PublicMessage() string { return e.Message }
func (e *Error) ErrorCode() string     { return e.Code }

// IsTransient tells an error worth retrying the whole job for.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Transient
}

func badPayload(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_payload", Message: fmt.Sprintf(format, args...)}
}

// badAnswer is a CMS answer that is not what its API promises.
func badAnswer(format string, args ...any) error {
	return &Error{Status: http.StatusBadGateway, Code: "cms_bad_answer", Message: fmt.Sprintf(format, args...)}
}

// conflict is content that kept changing for maxAttempts rounds; a later
// retry of the job may find it quiet.
func conflict(format string, args ...any) error {
	return &Error{Status: http.StatusConflict, Code: "cms_conflict", Transient: true, Message: fmt.Sprintf(format, args...)}
}

// api is a small JSON client for one configured CMS base URL. It never
// follows redirects (an Authorization header must not travel to another
// host) and never uses a proxy from the environment.
type api struct {
	name   string // "Ghost", "WordPress", "Gitea"... for messages
	base   *url.URL
	client *http.Client
	auth   func(*http.Request) error
}

// newAPI checks base and builds the client; base must be an absolute
// http(s) URL without credentials, query or fragment.
func newAPI(name, base string, auth func(*http.Request) error) (*api, error) {
	u, err := ParseBase(base)
	if err != nil {
		return nil, err
	}
	return &api{name: name, base: u, auth: auth, client: &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{Proxy: nil, MaxIdleConns: 4, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 30 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// ParseBase checks a configured CMS base URL.
func ParseBase(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	switch {
	case err != nil:
		return nil, errors.New("does not parse as a URL")
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, errors.New("must be an absolute http(s) URL, like https://blog.example.com")
	case u.User != nil:
		return nil, errors.New("must not carry credentials; they have their own variables")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// origin is scheme://host[:port] of the base URL: what the fetcher may
// reach even when it is a private address.
func (a *api) origin() string { return a.base.Scheme + "://" + a.base.Host }

// apiError is a CMS's non-2xx answer.
type apiError struct {
	status int
	body   string // a bounded excerpt, for the message
}

// call sends method path (relative to base, already escaped; may carry a
// query) with in encoded as JSON, and decodes a 2xx answer into out. A
// non-2xx answer is an *apiError; a network failure a transient *Error.
func (a *api) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return err
	}
	u := *a.base
	u.Path = a.base.Path + ref.Path
	u.RawPath = ""
	if ref.RawPath != "" {
		u.RawPath = a.base.EscapedPath() + ref.RawPath
	}
	u.RawQuery = ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "picbed (write-back)")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := a.auth(req); err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		// The url.Error names the URL, which carries no secret (auth is
		// in headers); the message says which CMS did not answer.
		return &Error{Status: http.StatusBadGateway, Code: "cms_unreachable", Transient: true,
			Message: fmt.Sprintf("%s at %s did not answer %s %s: %v", a.name, a.base.Host, method, ref.Path, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "cms_unreachable", Transient: true,
			Message: fmt.Sprintf("%s at %s broke off its answer to %s %s", a.name, a.base.Host, method, ref.Path)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &apiError{status: resp.StatusCode, body: excerpt(raw)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return badAnswer("%s answered %s %s with something that is not the JSON expected: %v", a.name, method, ref.Path, err)
		}
	}
	return nil
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusOf is the CMS's HTTP status in err, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

// refused turns a CMS's non-2xx answer to what (e.g. "reading post 12")
// into an *Error that says what the operator should check.
func (a *api) refused(what string, err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	msg := fmt.Sprintf("%s answered %d %s: %s", a.name, ae.status, what, ae.body)
	switch ae.status {
	case http.StatusUnauthorized:
		msg += "; the credentials were refused: check the key/password/token variables"
	case http.StatusForbidden:
		msg += "; the credentials lack a permission: see README, Write-back, for the role each CMS needs"
	case http.StatusNotFound:
		msg += "; it does not exist (deleted?) or the credentials cannot see it"
	}
	return &Error{Status: http.StatusBadGateway, Code: "cms_refused", Message: msg,
		Transient: ae.status >= 500 || ae.status == http.StatusTooManyRequests}
}

// excerpt is a bounded, single-line piece of an answer body for messages.
func excerpt(b []byte) string {
	return trunc(strings.Join(strings.Fields(string(b)), " "), 300)
}

// trunc is s cut to n bytes, marked "..." when cut: for quoting untrusted
// values in messages.
func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// changed reports whether any rewritten text differs from its doc.
func changed(docs []Doc, out []string) bool {
	for i, d := range docs {
		if out[i] != d.Text {
			return true
		}
	}
	return false
}

// str reads a string (or a number written as one) from a decoded JSON value.
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return ""
}

// obj reads a JSON object member as an object.
func obj(v any, key string) map[string]any {
	m, _ := v.(map[string]any)
	o, _ := m[key].(map[string]any)
	return o
}
