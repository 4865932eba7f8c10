// Package handler is picbed's application: one http.Handler for every route
// and a method that processes one stored object (for OSS events). It knows
// nothing of Function Compute; the door in package main adapts to it.
package handler

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"picbed/handler/admission"
	"picbed/handler/fetch"
	"picbed/handler/preauth"
	"picbed/handler/variant"
	"picbed/handler/webhooksig"
	"picbed/imageproc"
)

// Version is set at build time (-ldflags "-X picbed/handler.Version=...").
var Version = "dev"

// Handler serves every HTTP route of picbed. It holds only configuration
// and collaborators, never per-request state.
type Handler struct {
	cfg    Config
	store  Store
	tokens [][32]byte // sha256 of each token: compared in constant time, equal length
	mux    *http.ServeMux
	now    func() time.Time
	log    *slog.Logger
	admit  *admission.Limiter // memory budget for decoding (handler/admission)
	limits timeLimits
	// pipeline is imageproc.Process; tests slow it down or make it panic.
	pipeline func(context.Context, []byte, imageproc.Recipe) (imageproc.Result, error)

	// fetch.go: the SSRF-safe fetcher for upload by URL, rehost, webhook;
	// jobFetcher is the same plus the configured CMS origins (jobs.go)
	fetchOpts  fetch.Options
	fetcher    remoteFetcher
	jobFetcher remoteFetcher
	// jobs.go: the write-back connectors configured, and a test hook
	// told each time a job finishes
	connectors []connector
	jobDone    func(id string)
	wait       func(time.Duration) // time.Sleep; tests release it by hand
	// deletelink.go: the MAC key of delete links; nil when they are off
	deleteKey []byte
	// variants.go: how variant links are spelled, and (local mode) the
	// maker of GET /f/{key}?w=N; nil when the store keeps no variants
	namer    variant.Namer
	variants *variant.Maker
	// dialect_chevereto.go: finds a key sent inside the body without
	// holding the body (handler/preauth)
	preauth *preauth.Spooler
}

// preauthSpools is how many requests may wait for their form key at once
// (each holding at most PICBED_MAX_BYTES × 4/3 on disk); more get a 503.
const preauthSpools = 8

// Option changes how New builds the Handler (tests use these).
type Option func(*Handler)

// WithClock replaces time.Now (for key templates in tests).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithLogger sends the Handler's logs to l instead of slog.Default() (tests
// capture them to check that no secret is ever logged).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New builds the Handler for cfg and store.
func New(cfg Config, store Store, opts ...Option) *Handler {
	h := &Handler{cfg: cfg, store: store, now: time.Now, wait: time.Sleep, log: slog.Default(), limits: defaultTimeLimits, pipeline: imageproc.Process}
	h.admit = admission.New(admission.Budget(cfg.MemoryMB))
	h.connectors = newConnectors(cfg)
	h.deleteKey = deleteLinkKey(cfg)
	h.preauth = preauth.New("", preauthSpools, maxParts)
	for _, t := range cfg.Tokens {
		d, _, _ := webhooksig.SecretDigest(t) // a token, or "sha256:<hex>" of one (validated by function/config)
		h.tokens = append(h.tokens, d)
	}
	for _, o := range opts {
		o(h)
	}
	h.namer = variant.Namer{OSS: !cfg.LocalFiles, WebP: cfg.Format == imageproc.WebP, Styles: cfg.OSSStyles}
	if c, ok := store.(variant.Cache); ok && cfg.LocalFiles {
		h.variants = &variant.Maker{Cache: c, Make: h.makeVariant}
	}
	h.store = guardStore(store, &h.limits) // the one way to the store: time limit and error mapping
	m := http.NewServeMux()
	m.Handle("GET /healthz", h.route(h.healthz))
	m.Handle("POST /upload", h.uploadRoute()) // dialect_picgo.go: PicList's request shape too
	if cfg.LocalFiles {
		m.Handle("GET /f/{key...}", h.route(h.serveFile))
	}
	h.remoteRoutes(m) // remote.go: upload by URL, rehost, webhook
	h.clientRoutes(m) // clients.go: the page, gallery API, PicGo/Lsky/Chevereto dialects
	m.Handle("/", h.route(h.notFound))
	h.mux = m
	return h
}

// ServeHTTP runs every request through the same frame: request id, CORS,
// panic recovery and one structured log line. The log line names the route,
// never the query string or a header: those may hold tokens.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, st := h.begin(r.Context())
	r = r.WithContext(ctx)
	id := st.id
	body := &countingBody{ReadCloser: r.Body}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = body
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("X-Request-Id", id)
	cors(rec.Header())
	defer func() {
		if p := recover(); p != nil {
			st.log.Error("panic", "panic", redact(fmt.Sprint(p)), "stack", string(debug.Stack()))
			if !rec.wrote {
				writeJSON(rec, http.StatusInternalServerError, map[string]string{
					"error": "internal", "message": "picbed hit an internal error (request " + id + ")"})
			} else {
				rec.status = http.StatusInternalServerError
			}
		}
		st.log.Info("request", "method", r.Method, "route", routeName(r.URL.Path),
			"status", rec.status, "bytes_in", body.n.Load(), "bytes_out", rec.bytes,
			"duration_ms", time.Since(start).Milliseconds(), "path", st.pathTaken())
	}()
	if r.Method == http.MethodOptions {
		rec.WriteHeader(http.StatusNoContent)
		return
	}
	h.mux.ServeHTTP(rec, r)
}

func cors(hd http.Header) {
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Upload-Token, X-API-Key, X-PicGo-Secret")
	hd.Set("Access-Control-Max-Age", "86400")
}

// routeName is the path without keys or ids, safe to log.
func routeName(p string) string {
	for _, pre := range []string{"/f/", "/api/jobs/", "/api/images/", "/api/v1/images/", "/api/1/delete/"} {
		if strings.HasPrefix(p, pre) {
			return pre + "*"
		}
	}
	if len(p) > 64 {
		return p[:64] + "..."
	}
	return p
}

type requestIDKey struct{}

// begin gives one request or invocation its state: the id the door handed
// over (FC's request id) or a new one, and a logger that names it. Every
// way into the handler (ServeHTTP, ProcessObject) starts here, so every
// log line of a request carries its id.
func (h *Handler) begin(ctx context.Context) (context.Context, *reqState) {
	id := requestIDFrom(givenRequestID(ctx))
	st := &reqState{id: id, log: h.log.With("request_id", id)}
	return context.WithValue(ctx, requestIDKey{}, st), st
}

// reqState is what one request's frame shares with the code it runs: its id,
// its logger, and the pipeline paths taken (for the request log line).
type reqState struct {
	id  string
	log *slog.Logger

	mu    sync.Mutex
	paths []string
}

func (s *reqState) addPath(p string) {
	s.mu.Lock()
	s.paths = append(s.paths, p)
	s.mu.Unlock()
}

func (s *reqState) pathTaken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.paths, ",")
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(requestIDKey{}).(*reqState)
	return st
}

// requestID is the id of the request (or invocation) ctx belongs to.
func requestID(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return givenRequestID(ctx)
}

type givenIDKey struct{}

// WithRequestID tags ctx with the id the door was given for this request or
// invocation (FC's request id), so that it is the id picbed echoes in
// X-Request-Id and logs. Without one, ServeHTTP makes its own.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, givenIDKey{}, id)
}

func givenRequestID(ctx context.Context) string {
	id, _ := ctx.Value(givenIDKey{}).(string)
	return id
}

// logFrom is the request's logger (with its id), or the default logger
// outside a request (OSS events).
func logFrom(ctx context.Context) *slog.Logger {
	if st := stateFrom(ctx); st != nil {
		return st.log
	}
	return slog.Default()
}

// notePath records the pipeline path a request took, for its log line.
func notePath(ctx context.Context, p string) {
	if st := stateFrom(ctx); st != nil {
		st.addPath(p)
	}
}

// requestIDFrom keeps the door's request id when it looks like one (it is echoed
// in a header and logged), else makes a new one.
func requestIDFrom(fc string) string {
	if fc != "" && len(fc) <= 128 && !strings.ContainsFunc(fc, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return fc
	}
	return newRequestID()
}

// redact removes the secrets of every URL in s before it is logged: user
// names and passwords, query strings and fragments (signed links carry
// credentials there). One rule for every log line: fetch.Redact.
func redact(s string) string { return fetch.Redact(s) }

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// countingBody counts the request bytes actually read (Content-Length may
// be absent or a lie), for the log line.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// routeFunc is a route that returns its failure instead of writing it.
type routeFunc func(w http.ResponseWriter, r *http.Request) error

// route writes a routeFunc's error in the one JSON error shape.
func (h *Handler) route(fn routeFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

// auth lets a request through when it carries a configured token in
// Authorization: Bearer or X-Upload-Token.
func (h *Handler) auth(fn routeFunc) routeFunc { return gate(h.checkToken, fn) }

// manage is auth for listing, deleting and reading jobs, which need a token
// even when PICBED_ALLOW_ANONYMOUS opens uploads to anyone.
func (h *Handler) manage(fn routeFunc) routeFunc { return gate(h.checkManageToken, fn) }

// gate runs fn once check accepts the request's header tokens.
func gate(check func(candidates ...string) error, fn routeFunc) routeFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := check(bearer(r), r.Header.Get("X-Upload-Token")); err != nil {
			return err
		}
		return fn(w, r)
	}
}

func bearer(r *http.Request) string { return webhooksig.BearerToken(r.Header) }

// checkToken accepts when any candidate equals any configured token. Every
// comparison runs on fixed-length digests, so timing tells neither the
// token nor its length.
func (h *Handler) checkToken(candidates ...string) error {
	if h.anonymous() {
		return nil
	}
	return h.matchToken(candidates)
}

// anonymous tells whether anyone may upload: PICBED_ALLOW_ANONYMOUS with
// no token configured.
func (h *Handler) anonymous() bool { return len(h.tokens) == 0 && h.cfg.AllowAnonymous }

// checkManageToken is checkToken for listing and deleting: anonymous mode
// opens uploads only, so without a configured token nobody manages.
func (h *Handler) checkManageToken(candidates ...string) error {
	if len(h.tokens) == 0 {
		return errorf(http.StatusUnauthorized, "unauthorized", "listing and deleting images need a token and none is configured: set PICBED_TOKENS (PICBED_ALLOW_ANONYMOUS opens uploads only)")
	}
	return h.matchToken(candidates)
}

func (h *Handler) matchToken(candidates []string) error {
	given := false
	ok := 0
	for _, c := range candidates {
		if c == "" {
			continue
		}
		given = true
		d := sha256.Sum256([]byte(c))
		for _, t := range h.tokens {
			ok |= subtle.ConstantTimeCompare(d[:], t[:])
		}
	}
	switch {
	case ok == 1:
		return nil
	case !given:
		return errorf(http.StatusUnauthorized, "unauthorized", "send your upload token as 'Authorization: Bearer <token>' or 'X-Upload-Token: <token>'%s", h.cfg.TokenHint)
	}
	return errorf(http.StatusUnauthorized, "unauthorized", "the upload token is wrong; check PICBED_TOKENS on the server%s", h.cfg.TokenHint)
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": Version})
	return nil
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) error {
	return errorf(http.StatusNotFound, "not_found", "no route %s %s; see the README's API reference", r.Method, routeName(r.URL.Path))
}
