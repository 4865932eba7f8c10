package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// names is a resolver over a fixed table, so tests never use real DNS.
func names(m map[string][]string) Resolver {
	return func(ctx context.Context, host string) ([]netip.Addr, error) {
		ss, ok := m[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, nil
	}
}

// origin is an httptest server that counts the requests it answered.
type origin struct {
	*httptest.Server
	hits atomic.Int64
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) port() string {
	u, _ := url.Parse(o.URL)
	return u.Port()
}

func phone(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serveBytes(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(b)
	}
}

// wantKind fails unless err is an *Error of kind k with status.
func wantKind(t *testing.T, err error, k Kind, status int) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *fetch.Error", err, err)
	}
	if fe.Kind != k || fe.HTTPStatus() != status {
		t.Fatalf("kind, status = %d, %d (%s), want %d, %d", fe.Kind, fe.HTTPStatus(), fe.PublicMessage(), k, status)
	}
	if fe.PublicMessage() == "" {
		t.Fatal("empty public message")
	}
	return fe
}

func TestRefusedURLs(t *testing.T) {
	f := New(Options{ConnectTimeout: time.Second, Resolver: names(map[string][]string{
		"metadata.test":  {"100.100.100.200"},
		"localhost.test": {"::1"},
		"mixed.test":     {"8.8.8.8", "127.0.0.1"}, // every answer must pass
		"mapped.test":    {"::ffff:169.254.169.254"},
		"private.test":   {"192.168.1.10"},
	})})
	tests := []struct {
		url  string
		kind Kind
	}{
		// Schemes and shapes.
		{"ftp://example.com/a.jpg", KindBadURL},
		{"file:///etc/passwd", KindBadURL},
		{"gopher://example.com/", KindBadURL},
		{"javascript:alert(1)", KindBadURL},
		{"data:image/png;base64,iVBORw0KGgo=", KindBadURL},
		{"//example.com/a.jpg", KindBadURL},
		{"/a.jpg", KindBadURL},
		{"http:///a.jpg", KindBadURL},
		{"http://user:pass@example.com/a.jpg", KindBadURL},
		{"http://user@example.com/a.jpg", KindBadURL},
		{"http://example.com:0/a.jpg", KindBadURL},
		{"http://example.com:99999/a.jpg", KindBadURL},
		{"http://exa mple.com/", KindBadURL},
		{"http://" + strings.Repeat("a", 5000) + ".com/", KindBadURL},
		// Numeric spellings of 127.0.0.1 and friends.
		{"http://2130706433/", KindBadURL},
		{"http://0177.0.0.1/", KindBadURL},
		{"http://0177.0.0.01/", KindBadURL},
		{"http://127.1/", KindBadURL},
		{"http://127.0.1/", KindBadURL},
		{"http://0x7f.1/", KindBadURL},
		{"http://0x7f000001/", KindBadURL},
		{"http://0X7F.0.0.1/", KindBadURL},
		{"http://017700000001/", KindBadURL},
		{"http://1681282248/", KindBadURL},    // 100.55.100.200? any bare number
		{"http://0x64646448/", KindBadURL},    // 100.100.100.72
		{"http://100.100.25800/", KindBadURL}, // 100.100.100.200 as a.b.c
		{"http://0/", KindBadURL},
		{"http://%31%32%37.1/", KindBadURL},        // percent-encoded 127.1
		{"http://%32%31%33%30706433/", KindBadURL}, // percent-encoded 2130706433
		{"http://[::1%25lo]/", KindBadURL},
		{"http://[fe80::1%25eth0]/", KindBadURL},
		// Canonical addresses in every refused range, judged at dial time.
		{"http://0.0.0.0/", KindRefused},
		{"http://0.1.2.3:8080/", KindRefused},
		{"http://10.0.0.1/", KindRefused},
		{"http://100.64.0.1/", KindRefused},
		{"http://100.100.100.200/latest/meta-data/ram/security-credentials/", KindRefused},
		{"http://127.0.0.1/", KindRefused},
		{"http://127.0.0.1./", KindRefused},
		{"http://%31%32%37.0.0.1/", KindBadURL}, // percent-encoded host: does not parse
		{"http://127.8.9.10:9000/", KindRefused},
		{"http://169.254.169.254/latest/meta-data/", KindRefused},
		{"http://172.16.0.1/", KindRefused},
		{"http://172.31.255.254/", KindRefused},
		{"http://192.0.0.170/", KindRefused},
		{"http://192.168.1.1/", KindRefused},
		{"http://198.18.0.1/", KindRefused},
		{"http://224.0.0.1/", KindRefused},
		{"http://240.0.0.1/", KindRefused},
		{"http://255.255.255.255/", KindRefused},
		{"https://[::]/", KindRefused},
		{"http://[::1]:9000/", KindRefused},
		{"http://[::127.0.0.1]/", KindRefused},
		{"http://[fc00::1]/", KindRefused},
		{"http://[fd12:3456::1]/", KindRefused},
		{"http://[fe80::1]/", KindRefused},
		{"http://[fec0::1]/", KindRefused},
		{"http://[ff02::1]/", KindRefused},
		{"http://[::ffff:127.0.0.1]/", KindRefused},
		{"http://[::ffff:7f00:1]/", KindRefused},
		{"http://[::ffff:100.100.100.200]/", KindRefused},
		{"http://[::ffff:0:a9fe:a9fe]/", KindRefused},
		{"http://[64:ff9b::100.100.100.200]/", KindRefused},
		{"http://[64:ff9b::7f00:1]/", KindRefused},
		{"http://[64:ff9b:1::a00:1]/", KindRefused},
		{"http://[2002:7f00:1::]/", KindRefused},
		{"http://[2002:6464:64c8::1]/", KindRefused},
		{"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", KindRefused},
		{"http://[2001:0:4136:e378:8000:63bf:9b9b:9b37]/", KindRefused},
		// Names that resolve to refused addresses.
		{"http://metadata.test/latest/meta-data/", KindRefused},
		{"http://localhost.test/", KindRefused},
		{"http://mixed.test/", KindRefused},
		{"http://mapped.test/", KindRefused},
		{"http://private.test:8443/", KindRefused},
		{"http://nowhere.test/", KindDNS},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			res, err := f.Get(context.Background(), tt.url)
			if err == nil {
				t.Fatalf("fetched %d bytes, want refused", len(res.Data))
			}
			status := http.StatusBadRequest
			if tt.kind == KindDNS {
				status = http.StatusBadGateway
			}
			wantKind(t, err, tt.kind, status)
		})
	}
}

func TestLoopbackOriginRefusedByDefault(t *testing.T) {
	o := newOrigin(t, serveBytes([]byte("x")))
	for _, u := range []string{
		o.URL + "/a.jpg",
		"http://[::ffff:127.0.0.1]:" + o.port() + "/a.jpg",
		"http://origin.test:" + o.port() + "/a.jpg",
	} {
		f := New(Options{Resolver: names(map[string][]string{"origin.test": {"127.0.0.1"}})})
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindRefused, http.StatusBadRequest)
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the loopback origin was hit %d times", n)
	}
}

func TestGetAllowLoopback(t *testing.T) {
	img := phone(t)
	var ua string
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		serveBytes(img)(w, r)
	})
	f := New(Options{AllowLoopback: true, UserAgent: "picbed-test/1",
		Resolver: names(map[string][]string{"origin.test": {"127.0.0.1"}})})
	for _, u := range []string{o.URL + "/phone.jpg", "http://origin.test:" + o.port() + "/phone.jpg"} {
		res, err := f.Get(context.Background(), u)
		if err != nil {
			t.Fatalf("Get(%s): %v", u, err)
		}
		if !bytes.Equal(res.Data, img) {
			t.Errorf("got %d bytes, want %d", len(res.Data), len(img))
		}
		if res.ContentType != "image/jpeg" {
			t.Errorf("content type %q", res.ContentType)
		}
	}
	if ua != "picbed-test/1" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestAllowLoopbackStillRefusesPrivate(t *testing.T) {
	f := New(Options{AllowLoopback: true, ConnectTimeout: time.Second})
	for _, u := range []string{"http://10.1.2.3/", "http://100.100.100.200/", "http://[fe80::1]/", "http://0.0.0.0/"} {
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindRefused, http.StatusBadRequest)
	}
}

// TestDNSRebinding: the name answers a public address first, then
// 127.0.0.1. The check happens on the address actually dialled, so the
// second connection is refused and the loopback origin never sees a
// request; a name that answers both at once is refused outright.
func TestDNSRebinding(t *testing.T) {
	o := newOrigin(t, serveBytes([]byte("secret")))
	var calls atomic.Int64
	rebind := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil // TEST-NET-3: public, unroutable
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	f := New(Options{Resolver: rebind, ConnectTimeout: 200 * time.Millisecond, Timeout: time.Second})
	u := "http://rebind.test:" + o.port() + "/"
	_, err := f.Get(context.Background(), u)
	if err == nil {
		t.Fatal("first fetch (public, unroutable) succeeded")
	}
	_, err = f.Get(context.Background(), u)
	wantKind(t, err, KindRefused, http.StatusBadRequest)
	if calls.Load() < 2 {
		t.Errorf("resolver called %d times: the second fetch must resolve again", calls.Load())
	}

	both := New(Options{Resolver: names(map[string][]string{"both.test": {"203.0.113.7", "127.0.0.1"}})})
	_, err = both.Get(context.Background(), "http://both.test:"+o.port()+"/")
	wantKind(t, err, KindRefused, http.StatusBadRequest)
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the loopback origin was hit %d times", n)
	}
}

// TestRedirects: each hop is checked like the first URL.
func TestRedirects(t *testing.T) {
	img := phone(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/img", serveBytes(img))
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			http.Redirect(w, r, "/img", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	o := newOrigin(t, mux.ServeHTTP)
	f := New(Options{AllowLoopback: true, ConnectTimeout: time.Second,
		Resolver: names(map[string][]string{"metadata.test": {"100.100.100.200"}})})

	t.Run("three redirects", func(t *testing.T) {
		res, err := f.Get(context.Background(), o.URL+"/chain/2") // chain/2 -> 1 -> 0 -> img
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.Data, img) || res.URL.Path != "/img" {
			t.Errorf("got %d bytes from %s", len(res.Data), res.URL)
		}
	})
	t.Run("four redirects", func(t *testing.T) {
		_, err := f.Get(context.Background(), o.URL+"/chain/3")
		wantKind(t, err, KindRedirects, http.StatusBadGateway)
	})
	t.Run("redirects off", func(t *testing.T) {
		none := New(Options{AllowLoopback: true, MaxRedirects: -1})
		_, err := none.Get(context.Background(), o.URL+"/chain/0")
		wantKind(t, err, KindRedirects, http.StatusBadGateway)
	})
	for _, tt := range []struct {
		to   string
		kind Kind
	}{
		{"http://169.254.169.254/latest/meta-data/", KindRefused},
		{"http://100.100.100.200/latest/meta-data/", KindRefused},
		{"http://10.0.0.1/", KindRefused},
		{"http://[::ffff:a9fe:a9fe]/", KindRefused},
		{"http://metadata.test/", KindRefused},
		{"http://2130706433/", KindBadURL},
		{"file:///etc/passwd", KindBadURL},
		{"ftp://example.com/", KindBadURL},
		{"http://user:pw@127.0.0.1:" + o.port() + "/img", KindBadURL},
	} {
		t.Run("to "+tt.to, func(t *testing.T) {
			_, err := f.Get(context.Background(), o.URL+"/to?u="+url.QueryEscape(tt.to))
			fe := wantKind(t, err, tt.kind, http.StatusBadRequest)
			if msg := fe.PublicMessage(); !strings.Contains(msg, "redirects to") || !strings.HasPrefix(fe.URL, o.URL) {
				t.Errorf("message %q does not name the redirect", msg)
			}
		})
	}
}

// release unblocks the slow origins when a test ends.
func release(t *testing.T) chan struct{} {
	c := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(c) }) })
	return c
}

func TestSlowOrigin(t *testing.T) {
	done := release(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("\xff\xd8\xff"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	})
	o := newOrigin(t, mux.ServeHTTP)
	f := New(Options{AllowLoopback: true, Timeout: 150 * time.Millisecond})
	for _, p := range []string{"/headers", "/body"} {
		t.Run(p, func(t *testing.T) {
			_, err := f.Get(context.Background(), o.URL+p)
			wantKind(t, err, KindTimeout, http.StatusGatewayTimeout)
		})
	}
}

func TestEndlessOrigin(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte{0xff}, 4096)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	f := New(Options{AllowLoopback: true, MaxBytes: 64 << 10})
	_, err := f.Get(context.Background(), o.URL)
	fe := wantKind(t, err, KindTooLarge, http.StatusRequestEntityTooLarge)
	if fe.Limit != 64<<10 {
		t.Errorf("limit = %d", fe.Limit)
	}
}

// rawOrigin answers every connection with raw bytes, so the response can
// lie in ways net/http's server refuses to.
func rawOrigin(t *testing.T, resp string, body []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte(resp))
				c.Write(body)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func TestLyingContentLength(t *testing.T) {
	f := New(Options{AllowLoopback: true, MaxBytes: 64 << 10})
	big := bytes.Repeat([]byte{0xff}, 256<<10)
	t.Run("claims more than the cap", func(t *testing.T) {
		u := rawOrigin(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n", []byte("tiny"))
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindTooLarge, http.StatusRequestEntityTooLarge)
	})
	t.Run("no length, sends more than the cap", func(t *testing.T) {
		u := rawOrigin(t, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", big)
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindTooLarge, http.StatusRequestEntityTooLarge)
	})
	t.Run("claims little, sends more", func(t *testing.T) {
		u := rawOrigin(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n", big)
		res, err := f.Get(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Data) != 10 {
			t.Errorf("read %d bytes, want the 10 announced", len(res.Data))
		}
	})
	t.Run("claims more than it sends", func(t *testing.T) {
		u := rawOrigin(t, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n", []byte("short"))
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindUpstream, http.StatusBadGateway)
	})
	t.Run("chunked, more than the cap", func(t *testing.T) {
		var b bytes.Buffer
		for i := 0; i < 32; i++ {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", 16<<10, bytes.Repeat([]byte{'a'}, 16<<10))
		}
		b.WriteString("0\r\n\r\n")
		u := rawOrigin(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", b.Bytes())
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindTooLarge, http.StatusRequestEntityTooLarge)
	})
}

func TestUpstreamStatus(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	f := New(Options{AllowLoopback: true})
	_, err := f.Get(context.Background(), o.URL+"/gone.jpg")
	fe := wantKind(t, err, KindStatus, http.StatusBadGateway)
	if fe.Status != 404 || !strings.Contains(fe.PublicMessage(), "404") {
		t.Errorf("status %d, message %q", fe.Status, fe.PublicMessage())
	}
}

func TestCheckURLAccepts(t *testing.T) {
	for _, u := range []string{
		"http://example.com/a.jpg",
		"HTTPS://Example.COM:8443/a%20b.png?x=1#frag",
		"https://1.2.3.4/a.jpg",
		"https://[2606:4700::1111]/a.jpg",
		"https://xn--fsq.example/a.jpg",
		"https://img.example.com./a.jpg",
		"https://cdn-1.example.co.uk/a_b.jpg",
		"https://123.example.com/a.jpg",
	} {
		if _, err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want accepted", u, err)
		}
	}
}
