// Package hostile is picbed's bad-input suite: the requests an image host
// on the public internet is handed, each with the answer picbed must give.
// handler/abuse_test.go runs it through httptest, tools/abuse against a
// running server; both check the status, the JSON error body, that no
// object was written and that the server is still healthy afterwards.
package hostile

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// Case is one hostile request and the answer it must get.
type Case struct {
	Name    string
	Path    string            // with query; "/upload" when empty
	Header  map[string]string // sent as is
	NoAuth  bool              // do not add the upload token
	Body    func() io.Reader
	Chunked bool  // hide the length (Transfer-Encoding: chunked)
	Length  int64 // declared Content-Length when > 0 (may be a lie)

	Status int    // expected status
	Code   string // expected JSON error code; "" = any error code
	// Stores: a 2xx that writes exactly one object, whose key must stay
	// inside the store (hostile names); false = nothing may be written.
	Stores bool
	// OK200or422: the answer may be 200 or 422 (refused as corrupt),
	// depending on how much of the file the pipeline decodes; never anything
	// else. A stored polyglot must have lost its script (the metadata strip
	// drops comments and bytes after the image's end) and be served as
	// image/* with nosniff.
	OK200or422 bool

	// Method is POST when empty.
	Method string
	// BaseBody, when set, is the body for a server at base
	// (http://host:port): for bodies that name the server's own links.
	BaseBody func(base string) io.Reader
	// Secret must appear neither in the answer nor in the server's log
	// (a password in a URL).
	Secret string
	// MaxRead, when > 0, bounds the body bytes the server read before it
	// answered (bytes_in of its request log line): a refusal that must come
	// before the body is held.
	MaxRead int64
}

// Request builds the case's request against base (http://host:port).
func (c Case) Request(base, token string) (*http.Request, error) {
	p := c.Path
	if p == "" {
		p = "/upload"
	}
	var body io.Reader
	switch {
	case c.BaseBody != nil:
		body = c.BaseBody(base)
	case c.Body != nil:
		body = c.Body()
	}
	if c.Chunked && body != nil {
		body = struct{ io.Reader }{body} // hides Len(): net/http sends it chunked
	}
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, base+p, body)
	if err != nil {
		return nil, err
	}
	if c.Length > 0 {
		req.ContentLength = c.Length
	}
	if !c.NoAuth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	return req, nil
}

func raw(b []byte) func() io.Reader  { return func() io.Reader { return bytes.NewReader(b) } }
func text(s string) func() io.Reader { return func() io.Reader { return strings.NewReader(s) } }

func ct(v string) map[string]string { return map[string]string{"Content-Type": v} }

// Cases is the suite for a server whose PICBED_MAX_BYTES is maxBytes,
// built around a real photo (jpeg: a valid JPEG, e.g. testdata/phone.jpg).
// token is the server's upload token (for the case that sends it in the
// wrong header).
func Cases(maxBytes int64, jpeg []byte, token string) []Case {
	pngOK := SmallPNG(16, 16)
	svg := `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>`
	html := `<!doctype html><html><body><script>fetch('/api/images').then(r=>r.text()).then(alert)</script></body></html>`
	over := append(append([]byte{}, jpeg...), make([]byte, maxBytes)...)

	cs := []Case{
		// auth
		{Name: "auth: no token", NoAuth: true, Header: ct("image/png"), Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: wrong bearer", NoAuth: true, Header: map[string]string{"Content-Type": "image/png", "Authorization": "Bearer wrong-wrong-wrong-wrong"}, Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: empty bearer", NoAuth: true, Header: map[string]string{"Content-Type": "image/png", "Authorization": "Bearer "}, Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: empty X-Upload-Token", NoAuth: true, Header: map[string]string{"Content-Type": "image/png", "X-Upload-Token": " "}, Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: token as Basic", NoAuth: true, Header: map[string]string{"Content-Type": "image/png", "Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+token))}, Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: token in the query", NoAuth: true, Path: "/upload?token=" + token, Header: ct("image/png"), Body: raw(pngOK), Status: 401, Code: "unauthorized"},
		{Name: "auth: huge bearer", NoAuth: true, Header: map[string]string{"Content-Type": "image/png", "Authorization": "Bearer " + strings.Repeat("t", 6000)}, Body: raw(pngOK), Status: 401, Code: "unauthorized"},

		// size
		{Name: "oversize: declared", Header: ct("image/jpeg"), Body: raw(over), Status: 413, Code: "too_large"},
		{Name: "oversize: chunked", Header: ct("image/jpeg"), Body: raw(over), Chunked: true, Status: 413, Code: "too_large"},
		{Name: "oversize: multipart file", Header: nil, Body: nil, Status: 413, Code: "too_large"}, // filled below
		{Name: "oversize: JSON base64", Header: ct("application/json"), Body: text(`{"image":"` + base64.StdEncoding.EncodeToString(over) + `"}`), Status: 413, Code: "too_large"},

		// multipart
		{Name: "multipart: no boundary", Header: ct("multipart/form-data"), Body: raw(jpeg), Status: 400, Code: "bad_multipart"},
		{Name: "multipart: wrong boundary", Header: ct("multipart/form-data; boundary=nope"), Body: text("--other\r\n\r\nx\r\n--other--\r\n"), Status: 400},
		{Name: "multipart: thousands of parts", Status: 400, Code: "bad_multipart"}, // filled below
		{Name: "multipart: huge text field", Status: 400, Code: "bad_multipart"},    // filled below
		{Name: "multipart: unterminated", Header: ct("multipart/form-data; boundary=XX"), Body: text("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n" + string(pngOK)), Status: 400, Code: "bad_multipart"},
		{Name: "multipart: empty file", Status: 400, Code: "empty_file"},   // filled below
		{Name: "multipart: no file at all", Status: 400, Code: "no_image"}, // filled below

		// JSON / base64
		{Name: "base64: invalid", Header: ct("application/json"), Body: text(`{"image":"@@@@not-base64@@@@"}`), Status: 400, Code: "bad_base64"},
		{Name: "base64: data URL without ;base64", Header: ct("application/json"), Body: text(`{"image":"data:image/png,iVBORw0KGgo="}`), Status: 400, Code: "bad_base64"},
		{Name: "base64: data URL without comma", Header: ct("application/json"), Body: text(`{"image":"data:image/png;base64"}`), Status: 400, Code: "bad_base64"},
		{Name: "base64: data URL of SVG", Header: ct("application/json"), Body: text(`{"image":"data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString([]byte(svg)) + `"}`), Status: 415, Code: "unsupported_format"},
		{Name: "JSON: malformed", Header: ct("application/json"), Body: text(`{"image": `), Status: 400, Code: "bad_json"},
		{Name: "JSON: wrong type", Header: ct("application/json"), Body: text(`{"image": 42}`), Status: 400, Code: "bad_json"},
		{Name: "JSON: deep nesting", Header: ct("application/json"), Body: text(strings.Repeat("[", 100000)), Status: 400, Code: "bad_json"},

		// empty and truncated
		{Name: "zero bytes: raw", Header: ct("image/jpeg"), Body: text(""), Status: 400, Code: "no_image"},
		{Name: "zero bytes: JSON", Header: ct("application/json"), Body: text(`{"image":""}`), Status: 400, Code: "no_image"},
		{Name: "truncated: JPEG before its frame header", Header: ct("image/jpeg"), Body: raw(jpeg[:200]), Status: 422, Code: "corrupt_image"},
		{Name: "truncated: PNG inside IHDR", Header: ct("image/png"), Body: raw(pngOK[:24]), Status: 422, Code: "corrupt_image"},
		{Name: "truncated: JPEG cut in half", Header: ct("image/jpeg"), Body: raw(jpeg[:len(jpeg)/2]), Status: 422, Code: "corrupt_image"},
		{Name: "truncated: PNG without IEND", Header: ct("image/png"), Body: raw(pngOK[:len(pngOK)-12]), Status: 422, Code: "corrupt_image"},
		{Name: "truncated: magic only", Header: ct("image/png"), Body: raw([]byte("\x89PNG\r\n\x1a\n")), Status: 422, Code: "corrupt_image"},
		{Name: "truncated: GIF header", Header: ct("image/gif"), Body: text("GIF89a\x01"), Status: 422, Code: "corrupt_image"},

		// not images, disguised
		{Name: "disguised: SVG as image/png", Header: ct("image/png"), Body: text(svg), Status: 415, Code: "unsupported_format"},
		{Name: "disguised: SVG with XML prolog", Header: ct("image/svg+xml"), Body: text(`<?xml version="1.0"?>` + svg), Status: 415, Code: "unsupported_format"},
		{Name: "disguised: HTML as .jpg", Status: 415, Code: "unsupported_format"}, // filled below
		{Name: "disguised: HTML as image/jpeg", Header: ct("image/jpeg"), Body: text(html), Status: 415, Code: "unsupported_format"},
		{Name: "disguised: PDF", Header: ct("application/octet-stream"), Body: text("%PDF-1.7\n1 0 obj<<>>endobj\n"), Status: 415, Code: "unsupported_format"},
		{Name: "disguised: ZIP", Header: ct("application/octet-stream"), Body: text("PK\x03\x04\x14\x00\x00\x00\x08\x00"), Status: 415, Code: "unsupported_format"},
		{Name: "disguised: BOM then SVG", Header: ct("image/png"), Body: text("\xef\xbb\xbf" + svg), Status: 415, Code: "unsupported_format"},
		{Name: "content-type: text/html", Header: ct("text/html"), Body: text(html), Status: 415},

		// polyglots: decodable images carrying script. Stored only as an image
		// (served image/*, nosniff, CSP sandbox) or refused as corrupt.
		{Name: "polyglot: GIF/JavaScript", Header: ct("image/gif"), Body: raw(GIFJSPolyglot()), OK200or422: true},
		{Name: "polyglot: JPEG + trailing HTML", Header: ct("image/jpeg"), Body: raw(append(append([]byte{}, jpeg...), html...)), OK200or422: true},
		{Name: "polyglot: PNG + trailing HTML", Header: ct("image/png"), Body: raw(append(append([]byte{}, pngOK...), html...)), OK200or422: true},

		// options
		{Name: "option: unknown", Path: "/upload?resize=50", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "unknown_option"},
		{Name: "option: extra next to known ones", Path: "/upload?w=100&output=json&callback=x", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "unknown_option"},
		{Name: "option: w not a number", Path: "/upload?w=1e9", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "bad_option"},
		{Name: "option: negative q", Path: "/upload?q=-5", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "bad_option"},
		{Name: "option: format svg", Path: "/upload?format=svg", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "bad_option"},
		{Name: "option: output js", Path: "/upload?output=jsonp", Header: ct("image/png"), Body: raw(pngOK), Status: 400, Code: "bad_option"},
	}
	for i := range cs {
		fillMultipart(&cs[i], over, pngOK, html)
	}
	cs = append(cs, accessCases(maxBytes, jpeg)...)
	bombs := Bombs()
	for _, format := range slices.Sorted(maps.Keys(bombs)) {
		cs = append(cs, Case{Name: "pixel bomb: " + format, Header: ct("application/octet-stream"), Body: raw(bombs[format]), Status: 422, Code: "too_many_pixels"})
	}
	liars := Liars()
	for _, name := range slices.Sorted(maps.Keys(liars)) {
		cs = append(cs, Case{Name: "lying header: " + name, Path: "/upload?format=png", Header: ct("application/octet-stream"), Body: raw(liars[name]), Status: 422})
	}
	cs = append(cs, jpegCases(jpeg)...)
	names := HostileNames()
	for _, label := range slices.Sorted(maps.Keys(names)) {
		q := "/upload?name=" + url.QueryEscape(names[label])
		cs = append(cs, Case{Name: "name: " + label, Path: q, Header: ct("image/png"), Body: raw(SmallPNG(17, 9+len(label))), Status: 200, Stores: true})
	}
	return cs
}

func fillMultipart(c *Case, over, pngOK []byte, html string) {
	switch c.Name {
	case "oversize: multipart file":
		c.Body, c.Header = form([]part{{"file", "big.jpg", over}}, nil)
	case "multipart: thousands of parts":
		var ps []part
		for i := range 5000 {
			ps = append(ps, part{field: fmt.Sprint("f", i)})
		}
		c.Body, c.Header = form(ps, nil)
	case "multipart: huge text field":
		c.Body, c.Header = form([]part{{"file", "a.png", pngOK}}, map[string]string{"notes": strings.Repeat("x", 512<<10)})
	case "multipart: empty file":
		c.Body, c.Header = form([]part{{"file", "a.png", []byte{}}}, nil)
	case "multipart: no file at all":
		c.Body, c.Header = form(nil, map[string]string{"output": "json"})
	case "disguised: HTML as .jpg":
		c.Body, c.Header = form([]part{{"file", "cat.jpg", []byte(html)}}, nil)
	}
}

type part struct {
	field, name string
	data        []byte
}

// form encodes a multipart body: parts with a name are files, the others
// (and fields) plain form fields.
func form(parts []part, fields map[string]string) (func() io.Reader, map[string]string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, p := range parts {
		if p.name == "" {
			mw.WriteField(p.field, "v")
			continue
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.name))
		h.Set("Content-Type", "image/jpeg")
		w, _ := mw.CreatePart(h)
		w.Write(p.data)
	}
	mw.Close()
	return raw(buf.Bytes()), ct(mw.FormDataContentType())
}

// HostileNames are file names that try to become paths, hide their
// extension or overflow the key.
func HostileNames() map[string]string {
	return map[string]string{
		"dot-dot":       "../../etc/passwd.jpg",
		"absolute":      "/etc/cron.d/x.png",
		"backslash":     `..\..\Windows\win.ini.png`,
		"NUL":           "cat.png\x00.php",
		"RTL override":  "invoice\u202egnp.exe",
		"4 KB":          strings.Repeat("A", 4096) + ".png",
		"CRLF":          "a\r\nSet-Cookie: x=1.png",
		"hidden":        ".htaccess",
		"URL-encoded":   "%2e%2e%2f%2e%2e%2fetc%2fpasswd.png",
		"invalid UTF-8": "\xff\xfe.png",
	}
}

// SmallPNG is a valid w x h PNG.
func SmallPNG(w, h int) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.NRGBA{uint8(x * 9), uint8(y * 13), 200, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	return b.Bytes()
}

// Bombs are headers of every accepted format declaring a huge image over
// a few bytes: a server that allocated before checking would die.
func Bombs() map[string][]byte {
	return map[string][]byte{
		"PNG 100000x100000":   PNGBomb(100000, 100000),
		"PNG 20000x20000":     PNGBomb(20000, 20000),
		"GIF 65535x65535":     GIFBomb(65535, 65535),
		"JPEG 65500x65500":    JPEGBomb(65500, 65500),
		"WebP 16383x16383":    WebPBomb(16383, 16383),
		"BMP 100000x100000":   BMPBomb(100000, 100000),
		"TIFF 100000x100000":  TIFFBomb(100000, 100000),
		"HEIC 100000x100000":  HEIFBomb("heic", 100000, 100000),
		"AVIF 30000x30000":    HEIFBomb("avif", 30000, 30000),
		"BMP negative height": BMPBomb(60000, -60000),
	}
}

// PNGBomb is a PNG signature and an IHDR declaring w x h, and no pixels.
func PNGBomb(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	pngChunk(&b, "IHDR", ihdr)
	pngChunk(&b, "IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}

func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	c := crc32.NewIEEE()
	c.Write([]byte(typ))
	c.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, c.Sum32())
}

// GIFBomb is a GIF whose screen and one frame declare w x h.
func GIFBomb(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, [2]uint16{w, h})
	b.Write([]byte{0x80, 0, 0, 0, 0, 0, 255, 255, 255}) // 2-colour global table
	b.WriteByte(0x2C)
	binary.Write(&b, binary.LittleEndian, [4]uint16{0, 0, w, h})
	b.Write([]byte{0, 2, 2, 0x4C, 0x01, 0, 0x3B})
	return b.Bytes()
}

// GIFJSPolyglot is a GIF whose header also parses as JavaScript
// ("GIF89a/*...*/=alert(1);"): harmless only if it is never served as
// script. Its screen is 10799x... from the bytes of "/*".
func GIFJSPolyglot() []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a/*\x0a\x00\x00\x00\x00")
	b.WriteByte(0x2C)
	binary.Write(&b, binary.LittleEndian, [4]uint16{0, 0, 1, 1})
	b.Write([]byte{0, 2, 2, 0x44, 0x01, 0})
	js := "*/=alert(document.domain);/*"
	b.Write([]byte{0x21, 0xFE, byte(len(js))}) // a comment extension holds the script
	b.WriteString(js)
	b.Write([]byte{0, 0x3B})
	b.WriteString("*/")
	return b.Bytes()
}

// JPEGBomb is SOI and a baseline frame header declaring w x h.
func JPEGBomb(w, h uint16) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08})
	binary.Write(&b, binary.BigEndian, [2]uint16{h, w})
	b.Write([]byte{3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0})
	b.Write([]byte{0xFF, 0xDA, 0x00, 0x0C, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0})
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// WebPBomb is an extended WebP (VP8X) declaring a w x h canvas, with a
// VP8 key frame header of the same size (at most 16383x16383).
func WebPBomb(w, h int) []byte {
	vp8x := make([]byte, 10)
	putUint24(vp8x[4:], w-1)
	putUint24(vp8x[7:], h-1)
	vp8 := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8 & 0x3f), byte(h), byte(h >> 8 & 0x3f)}
	return riff(riffChunk{"VP8X", vp8x}, riffChunk{"VP8 ", vp8})
}

type riffChunk struct {
	fourcc string
	body   []byte
}

func riff(chunks ...riffChunk) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		b.WriteString(c.fourcc)
		binary.Write(&b, binary.LittleEndian, uint32(len(c.body)))
		b.Write(c.body)
		if len(c.body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+b.Len()))...), append([]byte("WEBP"), b.Bytes()...)...)
}

// Liars are files whose container claims a small picture while the
// bitstream the decoder reads is huge (issue 12): picbed must refuse them
// from their headers (422), never admit the small size and decode the big.
func Liars() map[string][]byte {
	// a lossless bitstream of 10000x10000 transparent pixels that costs no
	// bits per pixel (five one-symbol Huffman codes), then a VP8X saying 1x1
	bits := uint32(10000-1) | uint32(10000-1)<<14 | 1<<28
	vp8l := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)
	vp8l = append(vp8l, 0x88, 0x88, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	vp8x := make([]byte, 10)
	return map[string][]byte{
		"WebP 10000x10000 VP8L then VP8X 1x1": riff(riffChunk{"VP8L", vp8l}, riffChunk{"VP8X", vp8x}),
		"WebP VP8X 1x1 then VP8L 10000x10000": riff(riffChunk{"VP8X", vp8x}, riffChunk{"VP8L", vp8l}),
		"HEIC 8000x7000 SPS, ispe 100x100":    heif("heic", 100, 100, 8000, 7000),
		"AVIF 8000x7000 AV1, ispe 100x100":    heif("avif", 100, 100, 8000, 7000),
	}
}

func putUint24(b []byte, v int) { b[0], b[1], b[2] = byte(v), byte(v>>8), byte(v>>16) }

// BMPBomb is a BITMAPINFOHEADER declaring w x h at 24 bits.
func BMPBomb(w, h int32) []byte {
	var b bytes.Buffer
	b.WriteString("BM")
	binary.Write(&b, binary.LittleEndian, []uint32{54 + 16, 0, 54})
	for _, v := range []any{uint32(40), w, h, uint16(1), uint16(24), uint32(0), uint32(16), int32(2835), int32(2835), uint32(0), uint32(0)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(make([]byte, 16))
	return b.Bytes()
}

// TIFFBomb is a little-endian TIFF whose one IFD declares w x h grey.
func TIFFBomb(w, h uint32) []byte {
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32
	}
	entries := []entry{
		{256, 4, 1, w}, {257, 4, 1, h}, {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 1},
		{273, 4, 1, 8}, {277, 3, 1, 1}, {278, 4, 1, h}, {279, 4, 1, 1},
	}
	var b bytes.Buffer
	b.WriteString("II*\x00")
	binary.Write(&b, binary.LittleEndian, uint32(8))
	binary.Write(&b, binary.LittleEndian, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&b, binary.LittleEndian, e.tag)
		binary.Write(&b, binary.LittleEndian, e.typ)
		binary.Write(&b, binary.LittleEndian, e.count)
		if e.typ == 3 {
			binary.Write(&b, binary.LittleEndian, [2]uint16{uint16(e.value), 0})
		} else {
			binary.Write(&b, binary.LittleEndian, e.value)
		}
	}
	binary.Write(&b, binary.LittleEndian, uint32(0))
	return b.Bytes()
}

// HEIFBomb is an ISOBMFF file (brand heic or avif) with one coded item
// whose ispe property and bitstream header (HEVC SPS, AV1 sequence
// header) both declare w x h.
func HEIFBomb(brand string, w, h uint32) []byte {
	return heif(brand, w, h, w, h)
}

// heif is a one-item HEIC/AVIF whose ispe says w x h and whose bitstream
// header says bw x bh; the item data is just that header.
func heif(brand string, w, h, bw, bh uint32) []byte {
	box := func(typ string, body ...[]byte) []byte {
		n := 8
		for _, p := range body {
			n += len(p)
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(n))
		out = append(out, typ...)
		for _, p := range body {
			out = append(out, p...)
		}
		return out
	}
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	full := []byte{0, 0, 0, 0}
	var typ string
	var config, data []byte
	if brand == "avif" {
		typ = "av01"
		config = box("av1C", []byte{0x81, 0, 0, 0})
		seq := av1SequenceHeader(bw, bh)
		data = append([]byte{0x0A, byte(len(seq))}, seq...) // OBU_SEQUENCE_HEADER with its size
	} else {
		typ = "hvc1"
		sps := hevcSPS(bw, bh)
		hvcC := make([]byte, 22)
		hvcC[0], hvcC[21] = 1, 3 // version 1, 4-byte NAL lengths
		hvcC = append(hvcC, 1, 0x80|33)
		hvcC = append(append(append(hvcC, u16(1)...), u16(len(sps))...), sps...)
		config = box("hvcC", hvcC)
		data = append(u32(uint32(len(sps))), sps...)
	}
	ispe := box("ispe", full, u32(w), u32(h))
	ftyp := box("ftyp", []byte(brand), full, []byte("mif1"), []byte(brand))
	build := func(mdatAt int) []byte {
		iloc := box("iloc", full, []byte{0x44, 0x00}, u16(1), u16(1), u16(0), u16(1), u32(uint32(mdatAt+8)), u32(uint32(len(data))))
		meta := box("meta", full, box("hdlr", full, full, []byte("pict"), make([]byte, 13)),
			box("pitm", full, u16(1)),
			box("iinf", full, u16(1), box("infe", []byte{2, 0, 0, 0}, u16(1), u16(0), []byte(typ))),
			iloc,
			box("iprp", box("ipco", config, ispe), box("ipma", full, u32(1), u16(1), []byte{2, 0x81, 0x82})))
		return append(ftyp, meta...)
	}
	head := build(0)
	return append(build(len(head)), box("mdat", data)...)
}

// fieldWriter writes big-endian bit fields (headers, no stuffing).
type fieldWriter struct {
	b []byte
	n int
}

func (w *fieldWriter) bits(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (7 - w.n%8)
		w.n++
	}
}

// ue writes an unsigned Exp-Golomb code.
func (w *fieldWriter) ue(v uint32) {
	n := 0
	for x := v + 1; x > 1; x >>= 1 {
		n++
	}
	w.bits(0, n)
	w.bits(v+1, n+1)
}

// av1SequenceHeader is a reduced still-picture sequence header of w x h.
func av1SequenceHeader(wd, ht uint32) []byte {
	var w fieldWriter
	w.bits(0, 3)  // seq_profile
	w.bits(1, 1)  // still_picture
	w.bits(1, 1)  // reduced_still_picture_header
	w.bits(31, 5) // seq_level_idx
	w.bits(15, 4) // frame_width_bits_minus_1
	w.bits(15, 4) // frame_height_bits_minus_1
	w.bits(wd-1, 16)
	w.bits(ht-1, 16)
	w.bits(0, 8) // the rest of the header
	return w.b
}

// hevcSPS is an SPS NAL unit (main profile, 4:2:0) of w x h.
func hevcSPS(wd, ht uint32) []byte {
	var w fieldWriter
	w.bits(0, 4)  // sps_video_parameter_set_id
	w.bits(0, 3)  // sps_max_sub_layers_minus1
	w.bits(1, 1)  // sps_temporal_id_nesting_flag
	w.bits(1, 8)  // general profile space, tier, profile idc (Main)
	w.bits(0, 32) // compatibility flags
	w.bits(0, 48) // constraint flags
	w.bits(93, 8) // general_level_idc
	w.ue(0)       // sps_seq_parameter_set_id
	w.ue(1)       // chroma_format_idc
	w.ue(wd)
	w.ue(ht)
	w.bits(0, 1) // conformance_window_flag
	w.bits(0, 8) // the rest
	return append([]byte{33 << 1, 1}, w.b...)
}
