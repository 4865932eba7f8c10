package handler

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// POST /picgo/upload speaks the PicGo-Server dialect (PicGo's and PicList's
// built-in server), used by Obsidian's image-auto-upload in remote server
// mode and by other PicGo-Server clients.
//
// Failures answer HTTP 200 with {"success": false, "message": ...}: that is
// what PicGo-Server does, and image-auto-upload calls Obsidian's requestUrl,
// which throws away the body of any non-2xx answer, so a 4xx would hide the
// message from the user. The real status is in the X-Picbed-Status header
// and the error code in "error".

// picgoAnswer is the PicGo-Server answer.
type picgoAnswer struct {
	Success    bool          `json:"success"`
	Result     []string      `json:"result"`
	FullResult []picgoResult `json:"fullResult"`
}

// picgoResult is one fullResult entry: picbed's own answer plus the names
// PicGo/PicList clients read (imgUrl, fileName).
type picgoResult struct {
	*Uploaded
	ImgURL   string `json:"imgUrl"`
	FileName string `json:"fileName"`
}

// picgoList is the JSON form: {"list": ["https://...", ...]}.
type picgoList struct {
	List []string `json:"list"`
}

// uploadRoute is POST /upload. PicList's "PicList" image bed always posts
// there as <host>/upload?configName=<name>&key=<token> with the file under
// "file", and reads the PicGo-Server answer (a non-2xx answer loses the
// message), so a request with configName is answered by this dialect: key
// is its token; configName and picbed (PicList's own choices) are ignored.
func (h *Handler) uploadRoute() http.Handler {
	plain := h.route(h.auth(h.upload))
	piclist := h.dialectRoute(h.picgoUpload, writePicgoError)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("configName") {
			piclist.ServeHTTP(w, r)
			return
		}
		plain.ServeHTTP(w, r)
	})
}

func (h *Handler) picgoUpload(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	given := []string{bearer(r), r.Header.Get("X-Upload-Token"), r.Header.Get("X-PicGo-Secret"), q.Get("secret"), q.Get("key")}
	if err := h.checkToken(given...); err != nil {
		where := "add ?secret=<token> to the upload URL (or send X-PicGo-Secret)"
		if q.Has("configName") {
			where = "set the key of PicList's \"PicList\" image bed to a picbed upload token"
		}
		if strings.Join(given, "") == "" {
			return errorf(http.StatusUnauthorized, "unauthorized", "no token: %s", where)
		}
		return errorf(http.StatusUnauthorized, "unauthorized", "the token is wrong: %s (one of PICBED_TOKENS)", where)
	}
	rc, err := h.dialectRecipe(q, "w", "h", "q", "format", "watermark")
	if err != nil {
		return err
	}
	var imgs []image
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		// A list of URLs is fetched one by one: the whole request gets one
		// budget, not one fetch timeout per URL.
		ctx, cancel := context.WithTimeout(r.Context(), remoteBudget)
		defer cancel()
		r = r.WithContext(ctx)
		imgs, err = h.picgoJSON(w, r)
	} else {
		imgs, _, err = h.readDialect(w, r)
	}
	if err != nil {
		return err
	}
	if len(imgs) == 0 {
		return errorf(http.StatusBadRequest, "no_image", "no image: send multipart form-data with the files under 'list' (or 'files'), or JSON {\"list\": [\"https://...\"]}")
	}
	us, err := h.ingestAll(r.Context(), imgs, rc, "picgo")
	if err != nil {
		return err
	}
	a := picgoAnswer{Success: true}
	for _, u := range us {
		a.Result = append(a.Result, u.URL)
		a.FullResult = append(a.FullResult, picgoResult{Uploaded: u, ImgURL: u.URL, FileName: path.Base(u.Key)})
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// picgoJSON reads {"list": [...]}: URLs only. A local path means the
// client thinks picbed runs on its own machine (PicGo's local mode).
func (h *Handler) picgoJSON(w http.ResponseWriter, r *http.Request) ([]image, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	var l picgoList
	if err := json.NewDecoder(r.Body).Decode(&l); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "too_large", "the JSON list is over 1 MiB")
		}
		return nil, errorf(http.StatusBadRequest, "bad_json", "the JSON body is malformed; send {\"list\": [\"https://...\"]}")
	}
	if len(l.List) > maxParts {
		return nil, errorf(http.StatusBadRequest, "too_many", "at most %d images per request", maxParts)
	}
	var imgs []image
	for _, s := range l.List {
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return nil, errorf(http.StatusBadRequest, "not_a_url", "%q is not an http(s) URL: picbed is a remote server and cannot read your disk; turn on the client's remote server mode so it sends the files", truncate(s, 100))
		}
		img, err := h.fetchImage(r.Context(), s)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// writePicgoError answers a failure in the PicGo-Server shape.
func writePicgoError(w http.ResponseWriter, e *Error) {
	w.Header().Set("X-Picbed-Status", strconv.Itoa(e.Status))
	writeJSON(w, http.StatusOK, struct {
		Success bool   `json:"success"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}{false, e.Message, e.Code})
}
