package handler

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// The Lsky Pro v2 dialect (PicList's "Lsky" uploader, Lsky Pro clients):
// POST /api/v1/upload with the file under "file" and Authorization: Bearer,
// GET /api/v1/images and DELETE /api/v1/images/{key}. Answers are
// {"status": true|false, "message": ..., "data": ...} as in Lsky Pro; the
// key is picbed's object key (it may contain slashes, escaped or not).

// lskyImage is Lsky Pro's image object. Size is in KiB, as Lsky answers.
type lskyImage struct {
	Key        string    `json:"key"`
	Name       string    `json:"name"`
	Pathname   string    `json:"pathname"`
	OriginName string    `json:"origin_name"`
	Size       float64   `json:"size"`
	Mimetype   string    `json:"mimetype"`
	Extension  string    `json:"extension"`
	MD5        string    `json:"md5"`
	SHA1       string    `json:"sha1"`
	Width      int       `json:"width,omitempty"`
	Height     int       `json:"height,omitempty"`
	Date       string    `json:"date,omitempty"`
	HumanDate  string    `json:"human_date,omitempty"`
	Links      lskyLinks `json:"links"`
}

type lskyLinks struct {
	URL              string `json:"url"`
	HTML             string `json:"html"`
	BBCode           string `json:"bbcode"`
	Markdown         string `json:"markdown"`
	MarkdownWithLink string `json:"markdown_with_link"`
	ThumbnailURL     string `json:"thumbnail_url"`
	DeleteURL        string `json:"delete_url,omitempty"`
}

// lskyAnswer is Lsky Pro's envelope, in its field order.
type lskyAnswer struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func lskyOK(w http.ResponseWriter, message string, data any) {
	writeJSON(w, http.StatusOK, lskyAnswer{true, message, data})
}

// writeLskyError answers a failure in Lsky's shape with the fitting status.
func writeLskyError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, lskyAnswer{false, e.Message, struct{}{}})
}

// lskyAuth accepts the usual Bearer / X-Upload-Token, and what Lsky
// clients send when the user left out "Bearer " (a bare Authorization) or
// speaks Lsky v1 (a "token" header). check is h.checkToken for uploads,
// h.checkManageToken for listing and deleting.
func (h *Handler) lskyAuth(r *http.Request, check func(...string) error) error {
	bare := r.Header.Get("Authorization")
	if strings.Contains(bare, " ") {
		bare = ""
	}
	given := []string{bearer(r), bare, r.Header.Get("X-Upload-Token"), r.Header.Get("Token")}
	if err := check(given...); err != nil {
		if len(h.tokens) == 0 {
			return err // anonymous mode: no token exists to manage with; say so
		}
		if strings.Join(given, "") == "" {
			return errorf(http.StatusUnauthorized, "unauthorized", "Unauthenticated: send 'Authorization: Bearer <token>' with a picbed token")
		}
		return errorf(http.StatusUnauthorized, "unauthorized", "Unauthenticated: the token is wrong; use one of the server's upload tokens (PICBED_TOKENS)")
	}
	return nil
}

// lskyUpload is POST /api/v1/upload: one image.
func (h *Handler) lskyUpload(w http.ResponseWriter, r *http.Request) error {
	if err := h.lskyAuth(r, h.checkToken); err != nil {
		return err
	}
	rc, err := h.dialectRecipe(r.URL.Query(), "w", "h", "q", "format", "watermark")
	if err != nil {
		return err
	}
	imgs, _, err := h.readDialect(w, r)
	if err != nil {
		return err
	}
	switch {
	case len(imgs) == 0:
		return errorf(http.StatusBadRequest, "no_image", "the file field is required: send multipart form-data with the image under 'file'")
	case len(imgs) > 1:
		return errorf(http.StatusBadRequest, "too_many", "one image per request")
	}
	src := imgs[0].data
	us, err := h.ingestAll(r.Context(), imgs, rc, "lsky")
	if err != nil {
		return err
	}
	u := us[0]
	li := h.lskyFrom(r, u)
	m, s := md5.Sum(src), sha1.Sum(src)
	li.MD5, li.SHA1 = hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
	lskyOK(w, "uploaded", li)
	return nil
}

// lskyFrom builds Lsky's image object for a stored image.
func (h *Handler) lskyFrom(r *http.Request, u *Uploaded) lskyImage {
	name, origin := path.Base(u.Key), u.Name
	if origin == "" {
		origin = name
	}
	return lskyImage{
		Key: u.Key, Name: name, Pathname: u.Key, OriginName: origin,
		Size: math.Round(float64(u.Size)/1024*100) / 100, Mimetype: u.Format.MIME(), Extension: strings.TrimPrefix(u.Format.Ext(), "."),
		Width: u.Width, Height: u.Height,
		Links: lskyLinks{
			URL: u.URL, HTML: u.HTML, BBCode: "[img]" + u.URL + "[/img]", Markdown: u.Markdown,
			MarkdownWithLink: "[" + u.Markdown + "](" + u.URL + ")", ThumbnailURL: u.Thumbnail,
			DeleteURL: h.deleteURL(r, u.Key),
		},
	}
}

// lskyList is GET /api/v1/images?page=&per_page=: Lsky's paginator shape,
// newest first. One listing walk serves page N (the earlier pages are
// skipped in it); total is what was seen so far (a lower bound) unless
// this is the last page.
func (h *Handler) lskyList(w http.ResponseWriter, r *http.Request) error {
	if err := h.lskyAuth(r, h.checkManageToken); err != nil {
		return err
	}
	q := r.URL.Query()
	per, err := listLimit(q.Get("per_page"), "per_page")
	if err != nil {
		return err
	}
	if q.Get("per_page") == "" {
		per = 40 // Lsky's page size
	}
	page := 1
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > 1000 {
			return errorf(http.StatusBadRequest, "bad_option", "page=%q must be a whole number from 1 to 1000", s)
		}
	}
	// One walk serves page N: the pages before it are skipped, not listed
	// one by one.
	skip := (page - 1) * per
	res, err := h.newest(r.Context(), nil, skip, per)
	if err != nil {
		return err
	}
	h.describe(r.Context(), res.Objects)
	items := []lskyImage{}
	for _, o := range res.Objects {
		li := h.lskyFrom(r, h.fromListed(o))
		li.Date = o.Modified.UTC().Format("2006-01-02 15:04:05")
		li.HumanDate = li.Date + " UTC"
		items = append(items, li)
	}
	last := page
	if res.Next != nil {
		last = page + 1
	}
	lskyOK(w, "success", map[string]any{"current_page": page, "last_page": last, "per_page": per, "total": res.Seen, "data": items})
	return nil
}

// lskyDelete is DELETE /api/v1/images/{key...}.
func (h *Handler) lskyDelete(w http.ResponseWriter, r *http.Request) error {
	if err := h.lskyAuth(r, h.checkManageToken); err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := h.checkManagedKey(key); err != nil {
		return err
	}
	if err := h.deleteImage(r, key); err != nil {
		return err
	}
	lskyOK(w, "deleted", struct{}{})
	return nil
}
