// Package fetch downloads remote images without letting a URL reach what
// the server can reach: loopback, private networks and, above all, the
// cloud metadata service (on Function Compute, a GET of
// http://100.100.100.200/latest/meta-data/ram/security-credentials/ hands
// out the function role's keys). Every address is checked when the
// connection is made, so DNS rebinding and redirects are covered too.
package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The defaults of Options.
const (
	DefaultMaxBytes       = 32 << 20
	DefaultMaxRedirects   = 3
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultUserAgent      = "picbed-fetch/1 (+https://github.com/picbed)"
)

// Resolver answers the addresses of a host name. The fetcher checks every
// address it answers; tests replace it to play DNS rebinding.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// Options configure a Fetcher. Zero values take the defaults. There is no
// way to set them from the environment: AllowLoopback exists for tests
// that serve origins from httptest, and only code can turn it on.
type Options struct {
	MaxBytes       int64         // body cap, enforced while reading
	MaxRedirects   int           // redirects followed; < 0 means none
	ConnectTimeout time.Duration // per connection attempt
	Timeout        time.Duration // whole fetch, body included
	UserAgent      string

	// AllowLoopback lets 127.0.0.0/8 and ::1 through (and nothing else
	// that CheckIP refuses). For tests only.
	AllowLoopback bool

	// Deny lists further addresses never connected to, beside CheckIP's
	// table: hosts that look public but belong to the platform. On Function
	// Compute the door passes the runtime API's own address (FC_RUNTIME_API)
	// here; handler never reads the environment itself.
	Deny []netip.Prefix

	// AllowOrigins are origins (scheme://host[:port]) the fetcher may
	// reach even when their address is one CheckIP refuses: the blog CMS
	// the operator configured for write-back, which often lives on a
	// private address. Exactly those host:port pairs pass; a redirect or
	// a link elsewhere is judged as usual.
	AllowOrigins []string

	// Resolver replaces the system resolver (tests).
	Resolver Resolver
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxRedirects < 0 {
		o.MaxRedirects = 0
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Resolver == nil {
		o.Resolver = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return o
}

// Fetcher downloads URLs under Options. It is safe for concurrent use and
// holds no per-request state beyond its connection pool.
type Fetcher struct {
	o       Options
	client  *http.Client
	allowed map[string]bool // host:port of AllowOrigins, as the transport dials them
}

// Result is a fetched body.
type Result struct {
	Data        []byte
	URL         *url.URL // after redirects
	ContentType string   // as the origin said; never trusted for the format
}

// New builds a Fetcher.
func New(o Options) *Fetcher {
	o = o.withDefaults()
	f := &Fetcher{o: o, allowed: allowedAddrs(o.AllowOrigins)}
	tr := &http.Transport{
		Proxy:                  nil, // never from the environment: a proxy would dial for us, unchecked
		DialContext:            f.dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    o.ConnectTimeout,
		ResponseHeaderTimeout:  o.Timeout,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f.client = &http.Client{Transport: tr, CheckRedirect: f.checkRedirect}
	return f
}

// Get downloads rawURL: at most MaxBytes, within Timeout, following at most
// MaxRedirects redirects, each checked like the first URL.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Result, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Kind: KindBadURL, URL: rawURL, Reason: "it cannot be requested", Err: err}
	}
	req.Header.Set("User-Agent", f.o.UserAgent)
	req.Header.Set("Accept", "image/*,*/*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.classify(ctx, rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Kind: KindStatus, URL: rawURL, Status: resp.StatusCode}
	}
	if resp.ContentLength > f.o.MaxBytes {
		return nil, &Error{Kind: KindTooLarge, URL: rawURL, Limit: f.o.MaxBytes}
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(resp.Body, f.o.MaxBytes+1))
	if n > f.o.MaxBytes {
		return nil, &Error{Kind: KindTooLarge, URL: rawURL, Limit: f.o.MaxBytes}
	}
	if err != nil {
		return nil, f.classify(ctx, rawURL, err)
	}
	return &Result{Data: buf.Bytes(), URL: resp.Request.URL, ContentType: resp.Header.Get("Content-Type")}, nil
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.o.MaxRedirects {
		return &Error{Kind: KindRedirects, URL: via[0].URL.String(), Limit: int64(f.o.MaxRedirects)}
	}
	if _, err := CheckURL(req.URL.String()); err != nil {
		return err
	}
	req.Header.Set("User-Agent", f.o.UserAgent)
	return nil
}

// dial resolves the host itself, refuses it when any of its addresses is
// refused (a name that answers a public and a private address is not one
// to trust), then connects to each address in turn through a dialer whose
// Control hook checks the address actually connected to.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if f.allowed[strings.ToLower(addr)] {
		// The operator named this origin: no address check, and no
		// Control hook (which would refuse its private address).
		d := net.Dialer{Timeout: f.o.ConnectTimeout}
		return d.DialContext(ctx, network, addr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = f.o.Resolver(ctx, host)
		if err != nil {
			return nil, &Error{Kind: KindDNS, URL: host, Err: err}
		}
		if len(ips) == 0 {
			return nil, &Error{Kind: KindDNS, URL: host, Err: errors.New("no addresses")}
		}
	}
	for _, ip := range ips {
		if err := f.checkAddr(ip, host); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{Timeout: f.o.ConnectTimeout, Control: f.control}
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		var fe *Error
		if errors.As(err, &fe) {
			return nil, fe
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// allowedAddrs turns origins into the host:port the transport dials for
// them (the scheme's default port filled in). Origins that do not parse
// allow nothing.
func allowedAddrs(origins []string) map[string]bool {
	m := map[string]bool{}
	for _, o := range origins {
		u, err := url.Parse(strings.TrimSpace(o))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		m[strings.ToLower(net.JoinHostPort(u.Hostname(), port))] = true
	}
	return m
}

// control is the last check, on the address the socket is about to
// connect to, whatever path led there.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Kind: KindRefused, URL: address, Reason: "its address cannot be checked"}
	}
	return f.checkAddr(ap.Addr(), address)
}

func (f *Fetcher) checkAddr(ip netip.Addr, host string) error {
	if why := denied(ip, f.o.Deny); why != "" {
		return &Error{Kind: KindRefused, URL: host, Reason: "it resolves to " + why}
	}
	if f.o.AllowLoopback && IsLoopback(ip) {
		return nil
	}
	if why := CheckIP(ip); why != "" {
		return &Error{Kind: KindRefused, URL: host, Reason: "it resolves to " + why}
	}
	return nil
}

// classify turns a client error into an Error, keeping refusals as they are.
func (f *Fetcher) classify(ctx context.Context, rawURL string, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		var ue *url.Error
		if errors.As(err, &ue) && ue.URL != rawURL && fe.Kind != KindRedirects {
			fe.Hop = ue.URL // a redirect led there
		}
		fe.URL = rawURL // the client's URL, not the host that failed
		return fe
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Kind: KindTimeout, URL: rawURL, Limit: int64(f.o.Timeout / time.Second), Err: err}
	}
	return &Error{Kind: KindUpstream, URL: rawURL, Err: err}
}

// CheckURL parses rawURL and refuses what the fetcher never requests: a
// scheme other than http/https, userinfo, an empty host, and host names
// that are numbers in disguise (2130706433, 0177.0.0.1, 127.1, 0x7f.1),
// which some resolvers turn into addresses the dial check would then have
// to catch. Addresses written canonically pass here and are judged when
// dialled.
func CheckURL(rawURL string) (*url.URL, error) {
	bad := func(reason string) error { return &Error{Kind: KindBadURL, URL: rawURL, Reason: reason} }
	if len(rawURL) > 4096 {
		return nil, bad("it is longer than 4096 characters")
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, bad("it does not parse")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, bad("it is not absolute (http:// or https:// is missing)")
	default:
		return nil, bad("only http and https are fetched, not " + strconv.Quote(u.Scheme))
	}
	if u.User != nil {
		return nil, bad("it carries a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return nil, bad("it has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, bad("its port is not 1-65535")
		}
	}
	if why := checkHost(host); why != "" {
		return nil, bad(why)
	}
	return u, nil
}

// checkHost refuses host spellings that are not a DNS name or a canonical
// IP address.
func checkHost(host string) string {
	if strings.HasPrefix(host, "[") || strings.Contains(host, ":") {
		a, err := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil || a.Zone() != "" {
			return "its IPv6 host is not a plain IPv6 address"
		}
		return ""
	}
	h := strings.TrimSuffix(host, ".")
	if a, err := netip.ParseAddr(h); err == nil && a.Is4() && a.String() == h {
		return ""
	}
	labels := strings.Split(h, ".")
	if endsInNumber(labels[len(labels)-1]) {
		return "its host " + strconv.Quote(host) + " is a number but not a dotted-quad IPv4 address"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "its host " + strconv.Quote(host) + " is not a valid name"
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return "its host " + strconv.Quote(host) + " is not a valid name"
			}
		}
	}
	return ""
}

// endsInNumber is the WHATWG URL rule: a last label of digits, or of 0x
// and hex digits, makes the whole host an IPv4 number.
func endsInNumber(l string) bool {
	if l == "" {
		return false
	}
	if len(l) >= 2 && (l[:2] == "0x" || l[:2] == "0X") {
		for _, c := range l[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range l {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Kind says what went wrong, and so which status a client sees.
type Kind int

// The kinds of fetch failure.
const (
	KindBadURL    Kind = iota // 400: the URL itself is refused
	KindRefused               // 400: the host resolves to a refused address
	KindDNS                   // 502: the host does not resolve
	KindStatus                // 502: the origin answered non-2xx
	KindUpstream              // 502: connection or protocol failure
	KindTimeout               // 504
	KindTooLarge              // 413
	KindRedirects             // 502: too many redirects
)

// Error is a failed fetch. It carries its HTTP status and a message safe
// to show the client (the URL they sent and why it failed, never internal
// addresses beyond the one their own URL named).
type Error struct {
	Kind   Kind
	URL    string
	Reason string
	Status int    // the origin's status (KindStatus)
	Limit  int64  // bytes, redirects or seconds
	Hop    string // the redirect target that failed, when not URL itself
	Err    error
}

func (e *Error) Error() string {
	s := e.PublicMessage()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus is the status picbed answers with.
func (e *Error) HTTPStatus() int {
	switch e.Kind {
	case KindBadURL, KindRefused:
		return http.StatusBadRequest
	case KindTimeout:
		return http.StatusGatewayTimeout
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadGateway
}

// kindCodes are the error codes of the kinds, stable for scripts.
var kindCodes = [...]string{
	KindBadURL:    "bad_url",
	KindRefused:   "url_refused",
	KindDNS:       "upstream_dns",
	KindStatus:    "upstream_status",
	KindUpstream:  "upstream_failed",
	KindTimeout:   "upstream_timeout",
	KindTooLarge:  "too_large",
	KindRedirects: "too_many_redirects",
}

// ErrorCode is the code a script can branch on ("url_refused", ...).
func (e *Error) ErrorCode() string { return kindCodes[e.Kind] }

// PublicMessage says why, in words a client can act on.
func (e *Error) PublicMessage() string {
	u := strconv.Quote(trunc(StripUserinfo(e.URL), 200))
	switch e.Kind {
	case KindBadURL:
		if e.Hop != "" {
			return "the URL " + u + " redirects to " + strconv.Quote(trunc(StripUserinfo(e.Hop), 200)) + ", which is refused: " + e.Reason
		}
		return "the URL " + u + " is refused: " + e.Reason
	case KindRefused:
		if e.Hop != "" {
			return "the URL " + u + " redirects to " + strconv.Quote(trunc(StripUserinfo(e.Hop), 200)) + ", which is refused: " + e.Reason + "; picbed only fetches from public addresses"
		}
		return "the URL " + u + " is refused: " + e.Reason + "; picbed only fetches from public addresses"
	case KindDNS:
		return "the host of " + u + " does not resolve"
	case KindStatus:
		return fmt.Sprintf("the origin answered %d %s for %s", e.Status, http.StatusText(e.Status), u)
	case KindTimeout:
		return "fetching " + u + " took too long"
	case KindTooLarge:
		return fmt.Sprintf("the image at %s is over the limit of %d bytes", u, e.Limit)
	case KindRedirects:
		return fmt.Sprintf("fetching %s took more than %d redirects", u, e.Limit)
	}
	return "fetching " + u + " failed (connection or protocol error)"
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
