package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"picbed/deploy"
	"picbed/function/config"
	"picbed/handler"
	"picbed/storage"
)

// runFC serves Function Compute invocations until the process is stopped.
// FC starts the binary once per instance and hands it invocations through
// the runtime API; fc.Start never returns.
func runFC(cfg config.Config) error {
	store, err := newOSSStore(cfg)
	if err != nil {
		return err
	}
	if deploy.MainlandDefaultDomain(cfg.PublicURL) {
		slog.Warn("PICBED_PUBLIC_URL is a default bucket domain in the Chinese mainland: OSS answers reads through it with PublicEndpointForbidden (HTTP 400) for accounts created since 2025-03-20, so links will not open",
			"public_url", cfg.PublicURL, "fix", deploy.MainlandFix)
	}
	if cfg.RuntimeAPIName != "" { // the fetcher must not reach the runtime API
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", cfg.RuntimeAPIName)
		cancel()
		if err != nil {
			return fmt.Errorf("resolving FC_RUNTIME_API's host %q: %w", cfg.RuntimeAPIName, err)
		}
		for _, a := range ips {
			a = a.Unmap()
			cfg.FetchDeny = append(cfg.FetchDeny, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	d := &door{h: handler.New(cfg.Config, store)}
	fc.Start(d.dispatch)
	return errors.New("fc.Start returned")
}

// newOSSStore is the OSS store every mode uses; credentials come from the
// invocation (FC) or the environment (elsewhere), looked up per request.
func newOSSStore(cfg config.Config) (*storage.OSS, error) {
	return storage.NewOSS(storage.OSSConfig{Endpoint: cfg.OSSEndpoint, Bucket: cfg.OSSBucket, Credentials: credentials})
}

type credentialsKey struct{}

// credentials returns the invocation's STS credentials when dispatch put
// them in ctx, else the ALIBABA_CLOUD_* environment (local mode, the CLI).
func credentials(ctx context.Context) (storage.Credentials, error) {
	if c, ok := ctx.Value(credentialsKey{}).(storage.Credentials); ok && c.AccessKeyID != "" {
		return c, nil
	}
	c := storage.Credentials{
		AccessKeyID:     os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
		AccessKeySecret: os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
		SecurityToken:   os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN"),
	}
	if c.AccessKeyID == "" || c.AccessKeySecret == "" {
		return c, errors.New("no credentials in the invocation nor in ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	return c, nil
}

// door adapts FC invocations to the handler: no business rules here.
type door struct {
	h app
}

// app is what the door hands events to (a *handler.Handler; tests give it
// one that blocks until its context ends).
type app interface {
	http.Handler
	ProcessObject(ctx context.Context, in handler.InboxObject) (handler.Outcome, error)
}

// probe is just enough of an event to tell the kinds apart.
type probe struct {
	Events []struct {
		EventSource string `json:"eventSource"`
	} `json:"events"`
	RawPath        *string `json:"rawPath"`
	RequestContext *struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// dispatch is the one FC entry point: an HTTP-trigger event goes to the
// HTTP handler, an OSS event to ProcessObject, anything else is refused
// with an error naming what arrived.
func (d *door) dispatch(ctx context.Context, payload json.RawMessage) (any, error) {
	ctx, cancel := invocationContext(ctx)
	defer cancel()
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("picbed expects a JSON event (HTTP trigger or OSS trigger); got %d bytes that are not a JSON object: %v", len(payload), err)
	}
	switch {
	case len(p.Events) > 0 && p.allOSS():
		var ev events.OssEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("malformed OSS event: %v", err)
		}
		return d.processOSSEvent(ctx, ev)
	case p.RawPath != nil && p.RequestContext != nil && p.RequestContext.HTTP != nil && p.RequestContext.HTTP.Method != "":
		var ev events.HTTPTriggerEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("malformed HTTP trigger event: %v", err)
		}
		return d.serveHTTPEvent(ctx, ev)
	}
	return nil, fmt.Errorf("picbed handles HTTP trigger events (rawPath, requestContext.http) and OSS events (events[].eventSource = acs:oss); got %s", describe(payload, p))
}

func (p probe) allOSS() bool {
	for _, e := range p.Events {
		if e.EventSource != "acs:oss" {
			return false
		}
	}
	return true
}

// describe names what arrived without echoing it: the top-level keys and
// any event sources.
func describe(payload []byte, p probe) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return "JSON that is not an object"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, fmt.Sprintf("%.40q", k))
	}
	sort.Strings(keys)
	if len(keys) > 12 {
		keys = append(keys[:12], "...")
	}
	s := "an object with keys [" + strings.Join(keys, " ") + "]"
	var srcs []string
	for _, e := range p.Events {
		srcs = append(srcs, fmt.Sprintf("%.40q", e.EventSource))
	}
	if len(srcs) > 0 {
		s += " and event sources [" + strings.Join(srcs, " ") + "]"
	}
	return s
}

// invocationContext carries the invocation's request id and credentials
// (read once from fccontext) and ends a little before FC's deadline, so
// that picbed answers a clear timeout instead of being cut off.
func invocationContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if lc, ok := fccontext.FromContext(ctx); ok {
		ctx = handler.WithRequestID(ctx, lc.RequestID)
		ctx = context.WithValue(ctx, credentialsKey{}, storage.Credentials{
			AccessKeyID:     lc.Credentials.AccessKeyId,
			AccessKeySecret: lc.Credentials.AccessKeySecret,
			SecurityToken:   lc.Credentials.SecurityToken,
		})
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(2*time.Second, time.Until(dl)/10)
	return context.WithDeadline(ctx, dl.Add(-margin))
}

func requestID(ctx context.Context) string {
	if lc, ok := fccontext.FromContext(ctx); ok {
		return lc.RequestID
	}
	return ""
}

// OSSResult is the answer to an OSS event: one outcome per record.
type OSSResult struct {
	Outcomes []handler.Outcome `json:"outcomes"`
}

// processOSSEvent processes every record, even after one fails, and fails the
// invocation (so FC retries the event) when any failure was transient.
// Retrying the whole event is safe: finished records deduplicate.
func (d *door) processOSSEvent(ctx context.Context, ev events.OssEvent) (any, error) {
	res := OSSResult{Outcomes: []handler.Outcome{}}
	var transient []string
	for _, r := range ev.Events {
		in := inboxObject(r)
		out, err := d.processRecord(ctx, in)
		res.Outcomes = append(res.Outcomes, out)
		if err != nil {
			transient = append(transient, fmt.Sprintf("%q: %s", in.Key, out.Reason))
		}
	}
	if len(transient) > 0 {
		return nil, fmt.Errorf("%d of %d records failed transiently, FC will retry the event: %s", len(transient), len(ev.Events), strings.Join(transient, "; "))
	}
	return res, nil
}

// processRecord is ProcessObject with a panic turned into that record's
// failure, so that one bad record cannot take the others (and the
// instance) down.
func (d *door) processRecord(ctx context.Context, in handler.InboxObject) (out handler.Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("panic processing an inbox object", "request_id", requestID(ctx), "key", in.Key, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out = handler.Outcome{Key: in.Key, Status: handler.Failed, Reason: "picbed hit an internal error"}
			err = fmt.Errorf("internal error processing %q", in.Key)
		}
	}()
	return d.h.ProcessObject(ctx, in)
}

// inboxObject reads one OSS record.
func inboxObject(r *events.OssEventRecord) handler.InboxObject {
	in := handler.InboxObject{Size: -1}
	if r == nil {
		return in
	}
	if r.EventName != nil {
		in.Event = *r.EventName
	}
	if r.Oss != nil && r.Oss.Bucket != nil && r.Oss.Bucket.Name != nil {
		in.Bucket = *r.Oss.Bucket.Name
	}
	if r.Oss != nil && r.Oss.Object != nil {
		if r.Oss.Object.Key != nil {
			in.Key = eventKey(*r.Oss.Object.Key)
		}
		if r.Oss.Object.Size != nil {
			in.Size = int64(*r.Oss.Object.Size)
		}
	}
	return in
}

// eventKey decodes an object key as OSS events carry it: URL-encoded
// (percent-escapes; "+" is a literal plus). A key that is not valid
// percent-encoding is taken as it is. This is the one place keys are
// decoded; testdata/events/ pins it.
func eventKey(raw string) string {
	k, err := url.PathUnescape(raw)
	if err != nil {
		return raw
	}
	return k
}

// forbiddenHeaders are response headers FC refuses in an HTTP trigger
// response (it sets them itself).
var forbiddenHeaders = map[string]bool{
	"content-length": true, "date": true, "connection": true, "keep-alive": true,
	"server": true, "upgrade": true, "content-disposition": true,
}

// serveHTTPEvent serves an HTTP-trigger event with the same handler as
// local mode.
func (d *door) serveHTTPEvent(ctx context.Context, ev events.HTTPTriggerEvent) (events.HTTPTriggerResponse, error) {
	req, err := httpRequest(ctx, ev)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": "bad_request", "message": "the request could not be read: " + err.Error()})
		return events.HTTPTriggerResponse{StatusCode: http.StatusBadRequest, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: string(b)}, nil
	}
	rec := &recorder{header: http.Header{}}
	d.h.ServeHTTP(rec, req)
	return rec.response(), nil
}

// httpRequest rebuilds the client's request from the event: rawPath is
// URL-encoded, the body base64 when isBase64Encoded, and every header and
// query parameter one string (FC joins repeated ones with commas).
func httpRequest(ctx context.Context, ev events.HTTPTriggerEvent) (*http.Request, error) {
	var body []byte
	if ev.Body != nil {
		if ev.IsBase64Encoded != nil && *ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(*ev.Body)
			if err != nil {
				return nil, fmt.Errorf("the body is not valid base64")
			}
			body = b
		} else {
			body = []byte(*ev.Body)
		}
	}
	hdr := http.Header{}
	if ev.Headers != nil {
		for k, v := range *ev.Headers {
			hdr.Set(k, v)
		}
	}
	host := hdr.Get("Host")
	if host == "" && ev.TriggerContext.DomainName != nil {
		host = *ev.TriggerContext.DomainName
	}
	if host == "" {
		host = "fc.invalid"
	}
	u := &url.URL{Scheme: "https", Host: host, Path: "/"}
	if ev.RawPath != nil && *ev.RawPath != "" {
		p, err := url.PathUnescape(*ev.RawPath)
		if err != nil {
			return nil, fmt.Errorf("the path is not valid URL encoding")
		}
		u.Path, u.RawPath = p, *ev.RawPath
	}
	if ev.QueryParameters != nil {
		q := url.Values{}
		for k, v := range *ev.QueryParameters {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
	}
	method := *ev.TriggerContext.Http.Method
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hdr.Del("Content-Length")
	hdr.Del("Transfer-Encoding")
	req.Header = hdr
	req.Host = host
	req.ContentLength = int64(len(body))
	req.RequestURI = u.RequestURI()
	if ev.TriggerContext.Http.SourceIp != nil {
		req.RemoteAddr = *ev.TriggerContext.Http.SourceIp + ":0"
	}
	return req, nil
}

// recorder is the http.ResponseWriter the handler writes into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// response is the recorded answer as FC wants it: forbidden headers
// dropped, text bodies as they are, anything else base64.
func (r *recorder) response() events.HTTPTriggerResponse {
	out := events.HTTPTriggerResponse{StatusCode: r.status, Headers: map[string]string{}}
	if out.StatusCode == 0 {
		out.StatusCode = http.StatusOK
	}
	for k, v := range r.header {
		lk := strings.ToLower(k)
		if forbiddenHeaders[lk] || strings.HasPrefix(lk, "x-fc-") || len(v) == 0 {
			continue
		}
		out.Headers[k] = strings.Join(v, ", ")
	}
	b := r.body.Bytes()
	if isText(r.header.Get("Content-Type")) && utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(b)
		out.IsBase64Encoded = true
	}
	return out
}

// isText reports whether a Content-Type is sent as a JSON string.
func isText(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	return ct == "" || strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/javascript" ||
		ct == "application/xml" || strings.HasSuffix(ct, "+json") || strings.HasSuffix(ct, "+xml")
}
