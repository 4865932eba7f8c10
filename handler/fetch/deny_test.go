package fetch

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDenyRefusesThePlatformHost: the FC runtime API lives on an address
// that looks public (21.0.5.7); the door passes it in as Deny, and no
// spelling of it gets through, not even with loopback allowed.
func TestDenyRefusesThePlatformHost(t *testing.T) {
	deny := []netip.Prefix{netip.MustParsePrefix("21.0.5.7/32")}
	f := New(Options{AllowLoopback: true, ConnectTimeout: time.Second, Deny: deny, Resolver: names(map[string][]string{
		"runtime.test": {"21.0.5.7"},
		"mixed.test":   {"8.8.8.8", "21.0.5.7"},
	})})
	for _, u := range []string{
		"http://21.0.5.7:9000/2020-11-11/runtime/invocation/next",
		"http://runtime.test/x.jpg",
		"http://mixed.test/x.jpg",
		"http://[::ffff:21.0.5.7]:9000/",
		"http://[64:ff9b::1500:507]/", // NAT64 of 21.0.5.7
		"http://[2002:1500:507::1]/",  // 6to4 of 21.0.5.7
	} {
		t.Run(u, func(t *testing.T) {
			_, err := f.Get(context.Background(), u)
			fe := wantKind(t, err, KindRefused, 400)
			if !strings.Contains(fe.PublicMessage(), "platform") {
				t.Errorf("message %q does not say why", fe.PublicMessage())
			}
		})
	}
	if why := denied(netip.MustParseAddr("21.0.5.8"), deny); why != "" {
		t.Errorf("a neighbour of the denied host is refused: %s", why)
	}
}

// TestDiscardAndDocumentationPrefixesRefused goes through Get, so the dial
// check (not only the table) refuses 100::/64 and 2001:db8::/32.
func TestDiscardAndDocumentationPrefixesRefused(t *testing.T) {
	f := New(Options{ConnectTimeout: time.Second, Resolver: names(map[string][]string{
		"discard.test": {"100::1"},
		"doc.test":     {"2001:db8::10"},
	})})
	for _, u := range []string{"http://[100::1]/a.jpg", "http://discard.test/a.jpg", "http://[2001:db8::1]/a.jpg", "http://doc.test/a.jpg"} {
		_, err := f.Get(context.Background(), u)
		wantKind(t, err, KindRefused, 400)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fetching http://user:hunter2@example.com/a.jpg failed", "fetching http://[redacted]@example.com/a.jpg failed"},
		{`"https://u:p@ss@example.com/a.jpg?X-Amz-Signature=abc"`, `"https://[redacted]@example.com/a.jpg?[redacted]"`},
		{"https://example.com/a.jpg?token=t#frag", "https://example.com/a.jpg?[redacted]"},
		{"http://example.com/a@b.jpg", "http://example.com/a@b.jpg"},
		{"two: http://a:b@x.test/1 and HTTP://c:d@y.test/2", "two: http://[redacted]@x.test/1 and HTTP://[redacted]@y.test/2"},
		{"no url, mail@example.com", "no url, mail@example.com"},
		{"fetch https://a.example/x.jpg?sig=abc: 404", "fetch https://a.example/x.jpg?[redacted] 404"},
		{`"https://oss.example/k?Signature=x&OSSAccessKeyId=y"`, `"https://oss.example/k?[redacted]"`},
		{`Get "http://h/p#tok": refused`, `Get "http://h/p?[redacted]": refused`},
		{"no url here ?x=1", "no url here ?x=1"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPublicMessageHidesPassword: the refusal of a URL with a password
// must not repeat the password to the client (nor to whoever logs the
// answer).
func TestPublicMessageHidesPassword(t *testing.T) {
	f := New(Options{})
	_, err := f.Get(context.Background(), "http://alice:s3cret-pw@example.com/a.jpg?sig=1")
	fe := wantKind(t, err, KindBadURL, 400)
	for _, s := range []string{fe.PublicMessage(), fe.Error()} {
		if strings.Contains(s, "s3cret-pw") || strings.Contains(s, "alice") {
			t.Errorf("message repeats the userinfo: %s", s)
		}
	}
	if !strings.Contains(fe.PublicMessage(), "example.com/a.jpg?sig=1") {
		t.Errorf("message lost the URL the client needs to recognise: %s", fe.PublicMessage())
	}
}
