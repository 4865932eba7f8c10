// Package webhooksig checks how a CMS proves it knows the webhook secret
// (PICBED_WEBHOOK_SECRET): Ghost's timestamped HMAC, GitHub's and WP
// Webhooks' body HMACs, or a bearer token. Pure: headers, body and secret
// in, an error out.
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Replay is how far a Ghost signature's timestamp may be from now.
const Replay = 5 * time.Minute

// Scheme is how a CMS proves it knows PICBED_WEBHOOK_SECRET.
type Scheme int

const (
	None      Scheme = iota
	Ghost            // X-Ghost-Signature: sha256=<hex HMAC(secret, body+t)>, t=<ms>
	GitHub           // X-Hub-Signature-256: sha256=<hex HMAC(secret, body)>
	WordPress        // X-WP-Webhook-Signature: base64(HMAC(secret, body))
	Bearer           // Authorization: Bearer <secret>
)

// Detect picks the proof a request offers, strongest first.
func Detect(hd http.Header) Scheme {
	switch {
	case hd.Get("X-Ghost-Signature") != "":
		return Ghost
	case hd.Get("X-Hub-Signature-256") != "":
		return GitHub
	case hd.Get("X-WP-Webhook-Signature") != "":
		return WordPress
	case BearerToken(hd) != "":
		return Bearer
	}
	return None
}

// Verify checks the request's proof against secret. Every comparison is
// constant time; the error says what was wrong with the request, never
// what was expected, and may be shown to the client.
func Verify(scheme Scheme, hd http.Header, body []byte, secret string, now time.Time) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format, args...)
	}
	want, digest, err := SecretDigest(secret)
	if err != nil {
		return err
	}
	if digest && scheme != Bearer && scheme != None {
		// An HMAC is computed with the secret itself: its digest cannot
		// check one.
		return bad("this server keeps only a sha256: digest of PICBED_WEBHOOK_SECRET, which can check 'Authorization: Bearer <secret>' but not an HMAC signature; send the bearer header, or give the server the secret in clear")
	}
	mac := func(parts ...[]byte) []byte {
		m := hmac.New(sha256.New, []byte(secret))
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	switch scheme {
	case Ghost:
		sig, ts, ok := parseGhostSignature(hd.Get("X-Ghost-Signature"))
		if !ok {
			return bad("X-Ghost-Signature must look like 'sha256=<64 hex digits>, t=<milliseconds>'")
		}
		ms, _ := strconv.ParseInt(ts, 10, 64)
		if d := now.Sub(time.UnixMilli(ms)); d > Replay || d < -Replay {
			return bad("X-Ghost-Signature is timestamped %s from now, outside the %s replay window; check the clocks", d.Round(time.Second), Replay)
		}
		if !hmac.Equal(sig, mac(body, []byte(ts))) {
			return bad("X-Ghost-Signature does not match: the Ghost webhook's secret must equal PICBED_WEBHOOK_SECRET")
		}
	case GitHub:
		v := hd.Get("X-Hub-Signature-256")
		sig, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(v), "sha256="))
		if !strings.HasPrefix(strings.TrimSpace(v), "sha256=") || err != nil || len(sig) != sha256.Size {
			return bad("X-Hub-Signature-256 must look like 'sha256=<64 hex digits>'")
		}
		if !hmac.Equal(sig, mac(body)) {
			return bad("X-Hub-Signature-256 does not match: sign the raw body with HMAC-SHA256 and PICBED_WEBHOOK_SECRET")
		}
	case WordPress:
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(hd.Get("X-WP-Webhook-Signature")))
		if err != nil || len(sig) != sha256.Size {
			return bad("X-WP-Webhook-Signature must be the base64 of an HMAC-SHA256")
		}
		if !hmac.Equal(sig, mac(body)) {
			return bad("X-WP-Webhook-Signature does not match: the WP Webhooks secret key must equal PICBED_WEBHOOK_SECRET")
		}
	case Bearer:
		got := sha256.Sum256([]byte(BearerToken(hd)))
		if !hmac.Equal(got[:], want[:]) {
			return bad("the bearer token is not PICBED_WEBHOOK_SECRET")
		}
	default:
		return bad("unsigned webhook")
	}
	return nil
}

// parseGhostSignature splits "sha256=<hex>, t=<ms>" (in either order).
// The timestamp is returned as written: the HMAC covers exactly that text.
func parseGhostSignature(v string) (sig []byte, ts string, ok bool) {
	for _, part := range strings.Split(v, ",") {
		k, val, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			return nil, "", false
		}
		switch k {
		case "sha256":
			b, err := hex.DecodeString(val)
			if err != nil || len(b) != sha256.Size {
				return nil, "", false
			}
			sig = b
		case "t":
			if _, err := strconv.ParseInt(val, 10, 64); err != nil || val == "" {
				return nil, "", false
			}
			ts = val
		}
	}
	return sig, ts, sig != nil && ts != ""
}

// BearerToken is the token of an "Authorization: Bearer" header, or "" (the
// handler reads upload tokens with it too).
func BearerToken(hd http.Header) string {
	a := hd.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// DigestPrefix marks a secret given as the SHA-256 of the real value
// ("sha256:" and 64 hex digits), so that configuration dumps (s preview,
// ~/.s/logs, the FC console) never hold a usable token.
const DigestPrefix = "sha256:"

// SecretDigest is the SHA-256 that presented values are compared against:
// the decoded digest for a "sha256:<hex>" secret, else the hash of the
// secret itself. fromDigest says which; a malformed digest is an error
// that says how to make one.
func SecretDigest(secret string) (d [32]byte, fromDigest bool, err error) {
	h, ok := strings.CutPrefix(secret, DigestPrefix)
	if !ok {
		return sha256.Sum256([]byte(secret)), false, nil
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 32 {
		return d, true, errors.New("a sha256: value needs 64 hex digits, the SHA-256 of the secret: printf %s \"$SECRET\" | sha256sum")
	}
	copy(d[:], b)
	return d, true, nil
}
