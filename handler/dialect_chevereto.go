package handler

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"picbed/handler/preauth"
)

// POST /api/1/upload speaks the Chevereto v1 / ImgBB dialect that ShareX
// and many scripts know: the image in "source" (a file part, an http(s)
// URL or base64; ImgBB's "image" works too) as a form field or in the
// query, the token as X-API-Key or "key", format=json (default) or txt (the
// bare URL). The answer carries image.url, image.display_url,
// image.thumb.url and image.delete_url (see deletelink.go).

// chevImage is Chevereto's image object (the fields clients read).
type chevImage struct {
	Name             string    `json:"name"`
	Extension        string    `json:"extension"`
	Size             int       `json:"size"`
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	Date             string    `json:"date"`
	DateGMT          string    `json:"date_gmt"`
	Filename         string    `json:"filename"`
	OriginalFilename string    `json:"original_filename"`
	Mime             string    `json:"mime"`
	URL              string    `json:"url"`
	URLViewer        string    `json:"url_viewer"`
	DisplayURL       string    `json:"display_url"`
	Thumb            chevThumb `json:"thumb"`
	Medium           chevThumb `json:"medium"`
	DeleteURL        string    `json:"delete_url,omitempty"`
	Key              string    `json:"key"`
	Deduplicated     bool      `json:"deduplicated"`
}

type chevThumb struct {
	Filename  string `json:"filename"`
	Name      string `json:"name"`
	Mime      string `json:"mime"`
	Extension string `json:"extension"`
	URL       string `json:"url"`
}

// chevAnswer is Chevereto's envelope, in its field order: success and
// image on success, error on failure.
type chevAnswer struct {
	StatusCode int        `json:"status_code"`
	Success    *chevState `json:"success,omitempty"`
	Error      *chevState `json:"error,omitempty"`
	Image      *chevImage `json:"image,omitempty"`
	StatusTxt  string     `json:"status_txt"`
}

type chevState struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	Context string `json:"context,omitempty"` // picbed's error code
}

// writeChevError answers a failure in Chevereto's shape with its status.
func writeChevError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, chevAnswer{StatusCode: e.Status,
		Error: &chevState{Message: e.Message, Code: e.Status, Context: e.Code}, StatusTxt: http.StatusText(e.Status)})
}

func (h *Handler) cheveretoUpload(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	fromHeaders := []string{bearer(r), r.Header.Get("X-Upload-Token"), r.Header.Get("X-API-Key"), q.Get("key")}
	// A wrong token in a header or the query is refused before the body
	// is read; a token in the form is found before the body is held.
	given := strings.Join(fromHeaders, "") != ""
	if given {
		if err := h.checkToken(fromHeaders...); err != nil {
			return chevUnauthorized()
		}
	}
	rc, err := h.dialectRecipe(q, "w", "h", "q", "watermark")
	if err != nil {
		return err
	}
	if !given && !h.anonymous() {
		replay, err := h.formKey(w, r)
		if err != nil {
			return err
		}
		defer replay.Close()
		r.Body = replay
	}
	imgs, form, err := h.readDialect(w, r)
	if err != nil {
		return err
	}
	if !given {
		if err := h.checkToken(form.Get("key")); err != nil {
			return chevUnauthorized()
		}
	}
	if f := form.Get("format"); f != "" {
		format = f
	}
	switch format {
	case "", "json", "txt":
	default:
		return errorf(http.StatusBadRequest, "bad_option", "format=%q must be json or txt", format)
	}
	if len(imgs) == 0 {
		src := firstNonEmpty(form.Get("source"), form.Get("image"), q.Get("source"), q.Get("image"))
		if src == "" {
			return errorf(http.StatusBadRequest, "no_image", "Empty upload source: send the image as 'source' (a file, an http(s) URL or base64)")
		}
		img, err := h.sourceImage(r.Context(), src, firstNonEmpty(form.Get("name"), q.Get("name")))
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	if len(imgs) > 1 {
		return errorf(http.StatusBadRequest, "too_many", "one image per request")
	}
	us, err := h.ingestAll(r.Context(), imgs, rc, "chevereto")
	if err != nil {
		return err
	}
	u := us[0]
	if format == "txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(w, u.URL)
		return err
	}
	img := h.chevFrom(r, u)
	writeJSON(w, http.StatusOK, chevAnswer{StatusCode: http.StatusOK,
		Success: &chevState{Message: "image uploaded", Code: http.StatusOK}, Image: &img, StatusTxt: "OK"})
	return nil
}

// formKey checks the "key" field of a request whose token travels in its
// form, before picbed holds the body: a wrong key is refused as soon as it
// is read, and whatever came before it waits on disk (handler/preauth),
// not in memory. It returns the body to read in the original's place.
func (h *Handler) formKey(w http.ResponseWriter, r *http.Request) (io.ReadCloser, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	limit := h.cfg.MaxBytes + formOverhead
	if ct == "application/x-www-form-urlencoded" {
		limit = h.cfg.MaxBytes/3*4 + formOverhead
	}
	if err := h.limitBody(w, r, limit); err != nil {
		return nil, err
	}
	replay, err := h.preauth.Key(r.Body, ct, params, "key", limit, func(k string) error { return h.checkToken(k) })
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return replay, nil
	case errors.Is(err, preauth.ErrBusy):
		return nil, &Error{Status: http.StatusServiceUnavailable, Code: "overloaded", RetryAfter: retryAfter,
			Message: "picbed is busy with other uploads that carry their key in the form; retry in a few seconds, or send the key as X-API-Key"}
	case errors.Is(err, preauth.ErrTooLarge), errors.As(err, &mbe):
		return nil, h.tooLarge()
	case errors.Is(err, preauth.ErrMalformed):
		return nil, errorf(http.StatusBadRequest, "bad_form", "the form body is malformed: %v", err)
	case errors.Is(err, preauth.ErrNoKey):
		return nil, chevUnauthorized()
	}
	var e *Error
	if errors.As(err, &e) { // the key was wrong
		return nil, chevUnauthorized()
	}
	return nil, &Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "the request body could not be read", Err: err}
}

func chevUnauthorized() error {
	return errorf(http.StatusUnauthorized, "unauthorized", "Invalid API v1 key: send a picbed token as X-API-Key or key=")
}

// chevFrom builds Chevereto's image object for an upload.
func (h *Handler) chevFrom(r *http.Request, u *Uploaded) chevImage {
	file := path.Base(u.Key)
	ext := strings.TrimPrefix(u.Format.Ext(), ".")
	now := h.now()
	// thumb is the thumbnail, medium the narrowest ladder variant: real
	// smaller copies (the image itself when it is not wider).
	vf := h.namer.Format(u.Format)
	small := func(link string) chevThumb {
		if link == u.URL {
			return chevThumb{Filename: file, Name: stem(file), Mime: u.Format.MIME(), Extension: ext, URL: link}
		}
		return chevThumb{Filename: stem(file) + "." + vf.Ext(), Name: stem(file), Mime: vf.MIME(), Extension: vf.Ext(), URL: link}
	}
	medium := u.URL
	if len(u.Variants) > 0 {
		medium = u.Variants[0].URL
	}
	return chevImage{
		Name: stem(file), Extension: ext, Size: u.Size, Width: u.Width, Height: u.Height,
		Date: now.Format("2006-01-02 15:04:05"), DateGMT: now.UTC().Format("2006-01-02 15:04:05"),
		Filename: file, OriginalFilename: u.Name, Mime: u.Format.MIME(),
		URL: u.URL, URLViewer: u.URL, DisplayURL: u.URL, Thumb: small(u.Thumbnail), Medium: small(medium),
		DeleteURL: h.deleteURL(r, u.Key), Key: u.Key, Deduplicated: u.Deduplicated,
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
