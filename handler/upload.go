package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"picbed/handler/keys"
	"picbed/handler/variant"
	"picbed/imageproc"
	"picbed/storage"
)

// Uploaded is the answer for one stored image.
type Uploaded struct {
	URL          string              `json:"url"`
	Markdown     string              `json:"markdown"`
	HTML         string              `json:"html"`      // responsive <img>: srcset of the variants, width, height
	Thumbnail    string              `json:"thumbnail"` // about 400 px wide (the image itself when not wider)
	Variants     []variant.Link      `json:"variants"`  // the ladder widths below the stored width
	Key          string              `json:"key"`
	Width        int                 `json:"width"`
	Height       int                 `json:"height"`
	Size         int                 `json:"size"`
	Format       imageproc.Format    `json:"format"`
	Deduplicated bool                `json:"deduplicated"`
	Source       imageproc.ImageInfo `json:"source"`
	Name         string              `json:"name,omitempty"` // the client's file name, as sent
	Path         imageproc.Path      `json:"-"`              // the pipeline path taken, for logs
}

// image is one image a request carried: its bytes and the name the client
// gave it (only ever a hint: see slug).
type image struct {
	data []byte
	name string
}

// options are the per-request choices of POST /upload.
type options struct {
	recipe imageproc.Recipe
	output string // json | text | markdown | html
	size   int    // output=markdown|text: link the variant this wide (0: the image)
	name   string
}

// The options /upload accepts in the query or as form fields.
var uploadOptions = map[string]bool{"w": true, "h": true, "q": true, "format": true, "watermark": true, "name": true, "output": true, "size": true}

// parseOptions reads options from v strictly: a malformed or unknown value
// is a 400 naming it. Requests may tighten the server's limits, never
// loosen them.
func (h *Handler) parseOptions(v url.Values, strict bool) (options, error) {
	o := options{recipe: h.cfg.Recipe(), output: "json"}
	for k := range v {
		if strict && !uploadOptions[k] {
			return o, errorf(http.StatusBadRequest, "unknown_option", "unknown option %q; the options are w, h, q, format, watermark, name, output, size", k)
		}
	}
	num := func(name string, lo, hi int) (int, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, errorf(http.StatusBadRequest, "bad_option", "option %s=%q must be a whole number from %d to %d", name, s, lo, hi)
		}
		return n, nil
	}
	w, err := num("w", 1, 65535)
	if err != nil {
		return o, err
	}
	hh, err := num("h", 1, 65535)
	if err != nil {
		return o, err
	}
	q, err := num("q", 1, 100)
	if err != nil {
		return o, err
	}
	o.recipe.MaxWidth = tighten(o.recipe.MaxWidth, w)
	o.recipe.MaxHeight = tighten(o.recipe.MaxHeight, hh)
	if q != 0 {
		o.recipe.Quality = q
	}
	if s := v.Get("format"); s != "" {
		f, err := imageproc.ParseFormat(s)
		if err != nil {
			return o, errorf(http.StatusBadRequest, "bad_option", "option format: %v", err)
		}
		o.recipe.Format = f
	}
	switch v.Get("watermark") {
	case "":
	case "0", "false":
		o.recipe.Watermark = nil
	case "1", "true":
		if o.recipe.Watermark == nil {
			return o, errorf(http.StatusBadRequest, "bad_option", "option watermark=1: no watermark is configured (set PICBED_WATERMARK_TEXT or PICBED_WATERMARK_IMAGE)")
		}
	default:
		return o, errorf(http.StatusBadRequest, "bad_option", "option watermark=%q must be 0 or 1", v.Get("watermark"))
	}
	switch s := v.Get("output"); s {
	case "":
	case "json", "text", "markdown", "html":
		o.output = s
	default:
		return o, errorf(http.StatusBadRequest, "bad_option", "option output=%q must be json, text, markdown or html", s)
	}
	if s := v.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || !knownWidth(n) {
			return o, errorf(http.StatusBadRequest, "bad_option", "option size=%q must be one of the widths %s", truncate(s, 20), widthList(variant.Widths()))
		}
		if o.output != "markdown" && o.output != "text" {
			return o, errorf(http.StatusBadRequest, "bad_option", "option size=%d goes with output=markdown or output=text (JSON answers list every variant)", n)
		}
		o.size = n
	}
	o.name = v.Get("name")
	return o, nil
}

// tighten combines a configured bound with a requested one: the smaller
// wins, and 0 means unbounded.
func tighten(cfg, req int) int {
	if req == 0 || (cfg != 0 && cfg < req) {
		return cfg
	}
	return req
}

// upload is POST /upload: one or more images in, links out.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) error {
	o, err := h.parseOptions(r.URL.Query(), true)
	if err != nil {
		return err
	}
	imgs, form, err := h.readImages(w, r)
	if err != nil {
		return err
	}
	if len(form) > 0 {
		merged := r.URL.Query()
		for k, vs := range form {
			if uploadOptions[k] {
				merged[k] = vs
			}
		}
		if o, err = h.parseOptions(merged, false); err != nil {
			return err
		}
	}
	if u := form.Get("url"); u != "" {
		img, err := h.fetchImage(r.Context(), u)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	if len(imgs) == 0 {
		return errorf(http.StatusBadRequest, "no_image", "the request carried no image: send multipart form-data with a file, a raw image body, or JSON {\"image\": base64} / {\"url\": ...}")
	}
	if o.name != "" && len(imgs) == 1 {
		imgs[0].name = o.name
	}
	out, err := h.ingestAll(r.Context(), imgs, o.recipe, "upload")
	if err != nil {
		return err
	}
	return h.writeUploads(w, out, o)
}

// ingestAll checks every image before storing any, so that one bad file in
// a batch leaves nothing half-done, then stores them in order.
func (h *Handler) ingestAll(ctx context.Context, imgs []image, rc imageproc.Recipe, origin string) ([]*Uploaded, error) {
	fail := func(err error, i int) error {
		if len(imgs) > 1 {
			return fileError(err, i, imgs[i].name)
		}
		return err
	}
	hdrs := make([]imageproc.Header, len(imgs))
	for i, img := range imgs {
		hdr, err := checkHeader(img.data, rc.Limits)
		if err != nil {
			return nil, fail(err, i)
		}
		hdrs[i] = hdr
	}
	out := make([]*Uploaded, 0, len(imgs))
	for i, img := range imgs {
		u, err := h.ingestChecked(ctx, img, hdrs[i], rc, origin)
		if err != nil {
			return nil, fail(err, i)
		}
		out = append(out, u)
	}
	return out, nil
}

// checkHeader reads the image header and refuses it when over limits,
// before anything is decoded.
func checkHeader(data []byte, l imageproc.Limits) (imageproc.Header, error) {
	hdr, err := imageproc.ReadHeader(data)
	if err != nil {
		return hdr, err
	}
	return hdr, imageproc.CheckLimits(hdr, l)
}

// fileError names which file of a batch failed.
func fileError(err error, i int, name string) error {
	e := *classify(err)
	e.Message = fmt.Sprintf("file %d (%q): %s", i+1, truncate(name, 100), e.Message)
	return &e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// ingest stores one image: derive its key from the bytes and the recipe,
// answer from storage when it is already there (no decode at all), else
// process and write.
func (h *Handler) ingest(ctx context.Context, img image, rc imageproc.Recipe, origin string) (*Uploaded, error) {
	hdr, err := checkHeader(img.data, rc.Limits)
	if err != nil {
		return nil, err
	}
	return h.ingestChecked(ctx, img, hdr, rc, origin)
}

// ingestChecked is ingest for an image whose header hdr was already read
// and checked against rc.Limits.
func (h *Handler) ingestChecked(ctx context.Context, img image, hdr imageproc.Header, rc imageproc.Recipe, origin string) (*Uploaded, error) {
	sum := sha256.New()
	sum.Write(img.data)
	sum.Write([]byte{0})
	sum.Write([]byte(rc.Key()))
	hash := hex.EncodeToString(sum.Sum(nil))
	outFmt := rc.OutputFormat(hdr.Format)
	key, err := h.cfg.KeyTemplate.Execute(keys.Vars{Time: h.now(), Hash: hash, Name: img.name, Ext: outFmt.Ext()})
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_name", "cannot make an object key from this file name; rename the file")
	}
	obj, err := h.store.Stat(ctx, key)
	if err == nil {
		u := h.fromObject(obj, img.name)
		u.Deduplicated = true
		notePath(ctx, "dedupe")
		return u, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	res, err := h.process(ctx, img.data, hdr, rc)
	if err != nil {
		return nil, err
	}
	notePath(ctx, string(res.Info.Path))
	if res.Info.Output.Format != outFmt {
		return nil, fmt.Errorf("imageproc wrote %s where %s was planned", res.Info.Output.Format, outFmt)
	}
	meta := map[string]string{
		"picbed":        imageproc.Version,
		"picbed-origin": url.QueryEscape(truncate(publicOrigin(origin), 200)),
		"picbed-name":   url.QueryEscape(truncate(img.name, 200)),
		"width":         strconv.Itoa(res.Info.Output.Width),
		"height":        strconv.Itoa(res.Info.Output.Height),
		"source-width":  strconv.Itoa(res.Info.Source.Width),
		"source-height": strconv.Itoa(res.Info.Source.Height),
		"source-size":   strconv.Itoa(res.Info.Source.Size),
		"source-format": string(res.Info.Source.Format),
		"source-frames": strconv.Itoa(res.Info.Source.Frames),
	}
	if err := h.store.Put(ctx, key, res.Data, storage.PutOptions{ContentType: outFmt.MIME(), Meta: meta}); err != nil {
		return nil, err
	}
	u := h.links(key, img.name)
	u.Width, u.Height, u.Size, u.Format = res.Info.Output.Width, res.Info.Output.Height, len(res.Data), outFmt
	u.Source = res.Info.Source
	u.Path = res.Info.Path
	return h.withVariants(u), nil
}

// publicOrigin is origin as it may be published: OSS serves an object's
// metadata on every public GET, so a source URL keeps its scheme, host and
// path, never its user info, query string or fragment (signatures, tokens).
// Origins are "upload", "oss://bucket/key", "file:name" or "kind:URL".
func publicOrigin(origin string) string {
	kind, rest, ok := strings.Cut(origin, ":")
	if !ok {
		return origin
	}
	if kind != "http" && kind != "https" {
		if !strings.Contains(rest, "://") {
			return origin
		}
		return kind + ":" + publicOrigin(rest)
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return kind + ":" // nothing of an unreadable URL is kept
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// fromObject answers for an image stored earlier, from its metadata.
func (h *Handler) fromObject(o storage.Object, name string) *Uploaded {
	u := h.links(o.Key, name)
	atoi := func(k string) int { n, _ := strconv.Atoi(o.Meta[k]); return n }
	u.Width, u.Height, u.Size = atoi("width"), atoi("height"), int(o.Size)
	u.Format = imageproc.Format(strings.TrimPrefix(o.ContentType, "image/"))
	u.Source = imageproc.ImageInfo{Format: imageproc.Format(o.Meta["source-format"]),
		Width: atoi("source-width"), Height: atoi("source-height"), Size: atoi("source-size"), Frames: atoi("source-frames")}
	return h.withVariants(u)
}

// links fills the URL and its Markdown form; the HTML, which needs the
// stored size, comes with the variants (withVariants).
func (h *Handler) links(key, name string) *Uploaded {
	u := &Uploaded{Key: key, URL: h.publicURL(key), Name: name}
	u.Markdown = markdownImage(altText(name), u.URL)
	return u
}

// markdownImage is the Markdown image of link: ![alt](link).
func markdownImage(alt, link string) string { return "![" + alt + "](" + link + ")" }

// publicURL is the link to key: PUBLIC_URL + "/" + the key, each segment
// escaped.
func (h *Handler) publicURL(key string) string {
	return h.cfg.PublicURL + "/" + escapeKey(key)
}

// altText is the file name without extension, with nothing that could
// break out of Markdown's [] or an HTML attribute.
func altText(name string) string {
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndex(name, "."); i > 0 {
		name = name[:i]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("[]()<>`\\\"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", r) {
			return -1
		}
		return r
	}, name)
	return truncate(strings.TrimSpace(name), 100)
}

// writeUploads answers in the asked output form: JSON (one object, or
// {"files": [...]}) or the bare URL / Markdown / HTML, one line per image;
// with size=N the URL and Markdown link the variant N px wide.
func (h *Handler) writeUploads(w http.ResponseWriter, us []*Uploaded, o options) error {
	output := o.output
	if output == "json" {
		if len(us) == 1 {
			writeJSON(w, http.StatusOK, us[0])
		} else {
			writeJSON(w, http.StatusOK, map[string]any{"files": us})
		}
		return nil
	}
	var b strings.Builder
	for _, u := range us {
		switch output {
		case "text":
			b.WriteString(h.sizedLink(u, o.size))
		case "markdown":
			b.WriteString(markdownImage(altText(u.Name), h.sizedLink(u, o.size)))
		case "html":
			b.WriteString(u.HTML)
		}
		b.WriteByte('\n')
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := io.WriteString(w, b.String())
	return err
}

// formFieldMax bounds a non-file multipart field; maxParts the number of
// parts (a form with thousands of parts is an attack, not an upload).
const (
	formFieldMax = 64 << 10
	maxParts     = 64
	formOverhead = 1 << 20
)

// readImages reads every image of the request body, whatever its form, with
// the size cap enforced while reading. It also returns the non-file form
// fields of a multipart body (options, url).
func (h *Handler) readImages(w http.ResponseWriter, r *http.Request) ([]image, url.Values, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	max := h.cfg.MaxBytes
	switch {
	case ct == "multipart/form-data":
		if err := h.limitBody(w, r, max+formOverhead); err != nil {
			return nil, nil, err
		}
		if params["boundary"] == "" {
			return nil, nil, errorf(http.StatusBadRequest, "bad_multipart", "multipart/form-data without a boundary")
		}
		return h.readMultipart(multipart.NewReader(r.Body, params["boundary"]))
	case ct == "application/json":
		if err := h.limitBody(w, r, max/3*4+formOverhead); err != nil {
			return nil, nil, err
		}
		return h.readJSON(r.Body)
	case ct == "" || ct == "application/octet-stream" || strings.HasPrefix(ct, "image/"):
		if err := h.limitBody(w, r, max); err != nil {
			return nil, nil, err
		}
		b, err := readAll(r.Body, max)
		if err != nil {
			return nil, nil, err
		}
		if len(b) == 0 {
			return nil, nil, nil
		}
		return []image{{data: b, name: r.URL.Query().Get("name")}}, nil, nil
	}
	return nil, nil, errorf(http.StatusUnsupportedMediaType, "unsupported_content_type", "Content-Type %q: send multipart/form-data, application/json, or the raw image (image/* or application/octet-stream)", ct)
}

// limitBody caps the request body at limit bytes while it is read, and
// refuses at once a body that declares more: nothing of it is read (a
// client waiting on "Expect: 100-continue" never sends it).
func (h *Handler) limitBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.ContentLength > limit {
		return h.tooLarge()
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return nil
}

func (h *Handler) tooLarge() *Error {
	return errorf(http.StatusRequestEntityTooLarge, "too_large", "the upload is over the limit of %s (PICBED_MAX_BYTES); shrink the image first", sizeText(h.cfg.MaxBytes))
}

// sizeText spells a byte count the way the README does (MiB, KiB).
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// readAll reads r to the end, turning an over-limit body into a 413.
func readAll(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, max+1))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || n > max {
		return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "the upload is over the limit of %s (PICBED_MAX_BYTES); shrink the image first", sizeText(max))
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "the request body could not be read: " + err.Error(), Err: err}
	}
	return buf.Bytes(), nil
}

func (h *Handler) readMultipart(mr *multipart.Reader) ([]image, url.Values, error) {
	var imgs []image
	form := url.Values{}
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, h.tooLarge()
		}
		if err != nil {
			return nil, nil, errorf(http.StatusBadRequest, "bad_multipart", "the multipart body is malformed: %v", err)
		}
		if n >= maxParts {
			return nil, nil, errorf(http.StatusBadRequest, "bad_multipart", "more than %d form parts", maxParts)
		}
		if !isFilePart(p) {
			b, err := readAll(p, formFieldMax)
			if err != nil {
				var e *Error
				if errors.As(err, &e) && e.Status == http.StatusRequestEntityTooLarge {
					return nil, nil, errorf(http.StatusBadRequest, "bad_multipart", "form field %q is over %d KiB", truncate(p.FormName(), 64), formFieldMax>>10)
				}
				return nil, nil, err
			}
			form.Add(p.FormName(), string(b))
			continue
		}
		b, err := readAll(p, h.cfg.MaxBytes)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == "bad_body" {
				return nil, nil, errorf(http.StatusBadRequest, "bad_multipart", "file %q: the multipart body is malformed or cut short: %v", truncate(p.FileName(), 100), e.Err)
			}
			return nil, nil, err
		}
		if len(b) == 0 {
			return nil, nil, errorf(http.StatusBadRequest, "empty_file", "file %q is empty", truncate(p.FileName(), 100))
		}
		imgs = append(imgs, image{data: b, name: p.FileName()})
	}
	return imgs, form, nil
}

// isFilePart tells a file from a form field: a file name, or a
// Content-Type other than text (some clients send images without a name).
func isFilePart(p *multipart.Part) bool {
	if p.FileName() != "" {
		return true
	}
	ct := p.Header.Get("Content-Type")
	return ct != "" && !strings.HasPrefix(ct, "text/")
}

// jsonUpload is the JSON form of /upload.
type jsonUpload struct {
	Image string `json:"image"` // base64, or a data: URL
	Name  string `json:"name"`
	URL   string `json:"url"`
}

func (h *Handler) readJSON(body io.Reader) ([]image, url.Values, error) {
	var j jsonUpload
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, h.tooLarge()
		}
		return nil, nil, errorf(http.StatusBadRequest, "bad_json", "the JSON body is malformed: %v; send {\"image\": \"<base64>\", \"name\": \"...\"} or {\"url\": \"https://...\"}", err)
	}
	form := url.Values{}
	if j.URL != "" {
		form.Set("url", j.URL)
	}
	if j.Image == "" {
		return nil, form, nil
	}
	img, err := h.base64Image(j.Image, j.Name)
	if err != nil {
		return nil, nil, err
	}
	return []image{img}, form, nil
}

// base64Image decodes an image sent as text (see decodeBase64Image), held
// to PICBED_MAX_BYTES like any upload.
func (h *Handler) base64Image(s, name string) (image, error) {
	b, err := decodeBase64Image(s)
	if err != nil {
		return image{}, err
	}
	if int64(len(b)) > h.cfg.MaxBytes {
		return image{}, h.tooLarge()
	}
	return image{data: b, name: name}, nil
}

// decodeBase64Image accepts plain base64 (standard or URL alphabet, padded
// or not, with line breaks) or a data: URL with ;base64.
func decodeBase64Image(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		i := strings.IndexByte(s, ',')
		if i < 0 || !strings.HasSuffix(s[:i], ";base64") {
			return nil, errorf(http.StatusBadRequest, "bad_base64", "a data: URL must look like data:image/png;base64,....")
		}
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errorf(http.StatusBadRequest, "bad_base64", "the image is not valid base64")
	}
	return b, nil
}
