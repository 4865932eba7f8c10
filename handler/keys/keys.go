// Package keys makes object keys from a key template (PICBED_KEY_TEMPLATE):
// parsing, the fixed folder every key starts with, and the key of one image.
// It knows nothing of HTTP or storage beyond storage.CheckKey.
package keys

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"picbed/storage"
)

// Default is the key template of DESIGN.md.
const Default = "img/{year}/{month}/{hash}.{ext}"

// Template is a parsed object key template with PicGo-style placeholders:
// {year} {month} {day} {hour} {minute} {second} {timestamp} {hash} {hash:N}
// {name} {ext} {rand:N}.
type Template struct {
	raw   string
	parts []part
}

type part struct {
	lit  string // literal text, when name == ""
	name string
	n    int // for hash:N and rand:N
}

var placeholder = regexp.MustCompile(`\{([a-z]+)(?::(\d+))?\}`)

// Parse checks a template: known placeholders only, {ext} at the
// end of the last segment, and a {hash}, {timestamp} or {rand:N} somewhere
// so that two images cannot collide.
func Parse(s string) (*Template, error) {
	t := &Template{raw: s}
	if s == "" || strings.HasPrefix(s, "/") || strings.Contains(s, "..") || strings.Contains(s, "\\") {
		return nil, fmt.Errorf("%q must be a relative path without '..' or '\\'", s)
	}
	unique := false
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			t.parts = append(t.parts, part{lit: s[last:m[0]]})
		}
		name := s[m[2]:m[3]]
		p := part{name: name}
		if m[4] >= 0 {
			p.n, _ = strconv.Atoi(s[m[4]:m[5]])
		}
		switch name {
		case "year", "month", "day", "hour", "minute", "second", "name", "ext":
			if m[4] >= 0 {
				return nil, fmt.Errorf("{%s} takes no length", name)
			}
		case "timestamp":
			unique = true
		case "hash":
			if m[4] >= 0 && (p.n < 8 || p.n > 64) {
				return nil, fmt.Errorf("{hash:N} needs 8 <= N <= 64")
			}
			unique = true
		case "rand":
			if p.n < 4 || p.n > 64 {
				return nil, fmt.Errorf("{rand:N} needs 4 <= N <= 64")
			}
			unique = true
		default:
			return nil, fmt.Errorf("unknown placeholder {%s}", name)
		}
		t.parts = append(t.parts, p)
		last = m[1]
	}
	if last < len(s) {
		t.parts = append(t.parts, part{lit: s[last:]})
	}
	if strings.ContainsAny(strings.Join(literals(t.parts), ""), "{}") {
		return nil, fmt.Errorf("%q has an unclosed or malformed placeholder", s)
	}
	if !unique {
		return nil, fmt.Errorf("%q needs {hash}, {timestamp} or {rand:N} so that keys cannot collide", s)
	}
	if !strings.HasSuffix(s, "{ext}") {
		return nil, fmt.Errorf("%q must end with {ext}", s)
	}
	return t, nil
}

func literals(ps []part) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.lit)
	}
	return out
}

// String is the template as configured.
func (t *Template) String() string { return t.raw }

// Prefix is the fixed directory every key starts with ("img/" for the
// default template): the public prefix that listing and the loop guard use.
func (t *Template) Prefix() string {
	lit := ""
	if len(t.parts) > 0 && t.parts[0].name == "" {
		lit = t.parts[0].lit
	}
	if i := strings.LastIndex(lit, "/"); i >= 0 {
		return lit[:i+1]
	}
	return ""
}

// TimeFolders is how many folders after Prefix hold the upload time, most
// significant first: {year}/ then {month}/, {day}/, {hour}/ (2 for the
// default template img/{year}/{month}/...). Their names sort as the times
// do, so the newest images are in the greatest folders; 0 when the
// template does not start that way.
func (t *Template) TimeFolders() int {
	if len(t.parts) == 0 || t.parts[0].name != "" || !strings.HasSuffix(t.parts[0].lit, "/") {
		return 0
	}
	n := 0
	for i, want := range []string{"year", "month", "day", "hour"} {
		j := 1 + 2*i
		if j+1 >= len(t.parts) || t.parts[j].name != want || t.parts[j+1].name != "" || !strings.HasPrefix(t.parts[j+1].lit, "/") {
			break
		}
		n++
		if t.parts[j+1].lit != "/" { // fixed text after the folder: the time folders end here
			break
		}
	}
	return n
}

// Deterministic reports whether the same input always gives the same key,
// which is what makes dedupe and retried events idempotent.
func (t *Template) Deterministic() bool {
	for _, p := range t.parts {
		switch p.name {
		case "rand", "timestamp", "year", "month", "day", "hour", "minute", "second":
			return false
		}
	}
	return true
}

// Vars are the values a key is made from.
type Vars struct {
	Time time.Time
	Hash string // hex, 64 chars
	Name string // client's file name, any junk
	Ext  string
}

// Execute makes a key. Date placeholders come from the time of upload, in
// UTC; the client's name is reduced to a slug and never becomes a path.
func (t *Template) Execute(v Vars) (string, error) {
	var b strings.Builder
	tm := v.Time.UTC()
	for _, p := range t.parts {
		switch p.name {
		case "":
			b.WriteString(p.lit)
		case "year":
			fmt.Fprintf(&b, "%04d", tm.Year())
		case "month":
			fmt.Fprintf(&b, "%02d", int(tm.Month()))
		case "day":
			fmt.Fprintf(&b, "%02d", tm.Day())
		case "hour":
			fmt.Fprintf(&b, "%02d", tm.Hour())
		case "minute":
			fmt.Fprintf(&b, "%02d", tm.Minute())
		case "second":
			fmt.Fprintf(&b, "%02d", tm.Second())
		case "timestamp":
			b.WriteString(strconv.FormatInt(tm.Unix(), 10))
		case "hash":
			n := p.n
			if n == 0 {
				n = 32
			}
			b.WriteString(v.Hash[:min(n, len(v.Hash))])
		case "rand":
			b.WriteString(randomString(p.n))
		case "name":
			b.WriteString(slug(v.Name))
		case "ext":
			b.WriteString(v.Ext)
		}
	}
	key := b.String()
	if err := storage.CheckKey(key); err != nil {
		return "", err
	}
	return key, nil
}

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		x, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// maxSlug bounds {name} so that a 4 KB file name cannot blow the key limit.
const maxSlug = 64

// slug reduces a client's file name to letters, digits and single dashes:
// no slashes, dots, control or bidi characters. Letters of any script stay
// (a Chinese blogger's file names are Chinese); an empty result is "image".
func slug(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.TrimSuffix(name, path.Ext(name))
	name = norm.NFC.String(name)
	var b strings.Builder
	dash := false
	n := 0
	for _, r := range name {
		if n >= maxSlug {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			dash = false
			n++
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
			n++
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "image"
	}
	return s
}
