package handler

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"picbed/handler/variant"
	"picbed/storage"
)

// Thumbnails and the width ladder (see handler/variant): every answer names
// them, output=html uses them in srcset, and in local mode GET /f/{key}?w=N
// makes them (once) and serves them.

// variantImage is what the variants of an answered image depend on.
func variantImage(u *Uploaded) variant.Image {
	return variant.Image{URL: u.URL, Width: u.Width, Height: u.Height, Format: u.Format, Animated: animated(u)}
}

// animated reports whether the stored image is an animation: its source
// had frames and kept its format (a format change keeps the first frame).
func animated(u *Uploaded) bool {
	return u.Source.Frames > 1 && u.Format == u.Source.Format
}

// withVariants fills what depends on the stored size: the responsive HTML,
// the thumbnail and the variants.
func (h *Handler) withVariants(u *Uploaded) *Uploaded {
	im := variantImage(u)
	s := h.namer.For(im)
	u.Thumbnail, u.Variants = s.Thumbnail, s.Variants
	u.HTML = h.namer.HTML(im, altText(u.Name))
	return u
}

// sizedLink is u's link for output=markdown|text with size=N: the variant
// N px wide, or the image itself when it is no wider.
func (h *Handler) sizedLink(u *Uploaded, size int) string {
	if size == 0 {
		return u.URL
	}
	link, _ := h.namer.Pick(variantImage(u), size) // size was checked by parseOptions
	return link
}

// knownWidth reports whether n is a width picbed makes (size=, w=).
func knownWidth(n int) bool {
	for _, w := range variant.Widths() {
		if w == n {
			return true
		}
	}
	return false
}

// widthList spells widths for a message: "400, 640 and 960".
func widthList(ws []int) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = strconv.Itoa(w)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// serveVariant is GET /f/{key...}?w=N in local mode: the N px wide copy of
// the image, made on the first request and kept in the data directory.
// Only the widths the image's answer lists are made: no open resizer.
func (h *Handler) serveVariant(w http.ResponseWriter, r *http.Request, key string) error {
	ws := r.URL.Query().Get("w")
	n, err := strconv.Atoi(ws)
	if err != nil || !knownWidth(n) {
		return errorf(http.StatusBadRequest, "bad_width", "w=%q: picbed makes only the widths %s, and only those below the image's own width", truncate(ws, 20), widthList(variant.Widths()))
	}
	o, err := h.store.Stat(r.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such image")
	}
	if err != nil {
		return err
	}
	u := h.fromObject(o, "")
	im := variantImage(u)
	if !im.Offers(n) {
		var offered []int
		for _, k := range variant.Widths() {
			if im.Offers(k) {
				offered = append(offered, k)
			}
		}
		if len(offered) == 0 {
			return errorf(http.StatusBadRequest, "bad_width", "w=%d: this image (%d px wide%s) has no smaller copies; link it without w", n, u.Width, map[bool]string{true: ", animated"}[im.Animated])
		}
		return errorf(http.StatusBadRequest, "bad_width", "w=%d: this image (%d px wide) is offered at widths %s only", n, u.Width, widthList(offered))
	}
	if h.variants == nil {
		return errorf(http.StatusNotFound, "not_found", "this server keeps no variants (its store cannot)")
	}
	format := h.namer.Format(u.Format)
	b, err := h.variants.Get(r.Context(), key, variant.Name(n, format.Ext()), n)
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such image")
	}
	if err != nil {
		return err
	}
	writeImage(w, r, b, format.MIME(), o)
	return nil
}

// makeVariant reads the image under key and resizes it to width n, in the
// variant format, through the same admission and time limit as uploads.
// The stored image was already stripped and watermarked.
func (h *Handler) makeVariant(ctx context.Context, key string, n int) ([]byte, error) {
	data, _, err := h.store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	rc := h.cfg.Recipe()
	hdr, err := checkHeader(data, rc.Limits)
	if err != nil {
		return nil, err
	}
	rc.MaxWidth, rc.MaxHeight, rc.Watermark = n, 0, nil
	rc.Format = h.namer.Format(hdr.Format)
	res, err := h.process(ctx, data, hdr, rc)
	if err != nil {
		return nil, err
	}
	notePath(ctx, "variant")
	return res.Data, nil
}
