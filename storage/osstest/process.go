package osstest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decoding WebP sources

	"picbed/imageproc"
)

// OSS image processing, as far as picbed's variant links use it: a GET of
// an object with ?x-oss-process=image/resize,w_<N>[,h_<N>][,limit_0|1]
// [/format,jpg|png|webp|gif] or ?x-oss-process=style/<name> answers the
// processed image; the object itself is untouched. Like OSS, a resize
// keeps the aspect ratio and (limit_1, the default) never enlarges; a
// malformed parameter is a 400 InvalidArgument, a style the bucket lacks a
// 404 StyleNotFound. Other OSS image actions are not implemented (501).

// Style defines an image style of bucket, as the OSS console does: its
// name and the processing it stands for ("image/resize,w_640").
func (s *Server) Style(bucket, name, process string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.styles == nil {
		s.styles = map[string]string{}
	}
	s.styles[bucket+"/"+name] = process
}

var (
	resizeParam = regexp.MustCompile(`^(w|h|limit)_([0-9]{1,5})$`)
	styleName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// process answers GET ?x-oss-process=... on the object o.
func (s *Server) process(w http.ResponseWriter, c *call, o *Object, spec string) int {
	if name, ok := strings.CutPrefix(spec, "style/"); ok {
		s.mu.Lock()
		p, found := s.styles[c.bucket+"/"+name]
		s.mu.Unlock()
		if !styleName.MatchString(name) || !found {
			return s.fail(w, c, http.StatusNotFound, "StyleNotFound", "The style does not exist.")
		}
		spec = p
	}
	actions, ok := strings.CutPrefix(spec, "image/")
	if !ok {
		return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "x-oss-process must start with image/ or style/")
	}
	src, srcFormat, err := image.Decode(bytes.NewReader(o.Data))
	if err != nil {
		return s.fail(w, c, http.StatusBadRequest, "BadRequest", "The image is not supported: "+err.Error())
	}
	m, format := src, srcFormat
	for _, a := range strings.Split(actions, "/") {
		name, params, _ := strings.Cut(a, ",")
		switch name {
		case "resize":
			var err error
			if m, err = resize(m, params); err != nil {
				return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", err.Error())
			}
		case "format":
			switch params {
			case "jpg", "jpeg":
				format = "jpeg"
			case "png", "webp", "gif":
				format = params
			default:
				return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "format "+params+" is not supported")
			}
		default:
			return s.fail(w, c, http.StatusNotImplemented, "NotImplemented", "osstest implements the image actions resize and format only, not "+name)
		}
	}
	var b bytes.Buffer
	switch format {
	case "jpeg":
		err = jpeg.Encode(&b, m, &jpeg.Options{Quality: 90})
	case "png":
		err = png.Encode(&b, m)
	case "gif":
		err = gif.Encode(&b, m, nil)
	case "webp":
		err = encodeWebP(&b, m)
	default:
		err = fmt.Errorf("cannot write %s", format)
	}
	if err != nil {
		return s.fail(w, c, http.StatusInternalServerError, "InternalError", err.Error())
	}
	w.Header().Set("Content-Type", "image/"+format)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodGet {
		w.Write(b.Bytes())
	}
	return http.StatusOK
}

// resize is OSS's image/resize with w_, h_ and limit_ (lfit: fit within,
// aspect ratio kept; limit_1, the default, never enlarges).
func resize(m image.Image, params string) (image.Image, error) {
	v := map[string]int{"limit": 1}
	for _, p := range strings.Split(params, ",") {
		sm := resizeParam.FindStringSubmatch(p)
		if sm == nil {
			return nil, fmt.Errorf("resize parameter %q is not valid", p)
		}
		n, _ := strconv.Atoi(sm[2])
		v[sm[1]] = n
	}
	w0, h0 := m.Bounds().Dx(), m.Bounds().Dy()
	tw, th := v["w"], v["h"]
	if (tw == 0 && th == 0) || tw > 16384 || th > 16384 || v["limit"] > 1 {
		return nil, fmt.Errorf("resize needs w_ or h_ from 1 to 16384")
	}
	s := 1e9
	if tw > 0 {
		s = float64(tw) / float64(w0)
	}
	if th > 0 {
		s = min(s, float64(th)/float64(h0))
	}
	if s >= 1 && v["limit"] == 1 {
		return m, nil
	}
	nw, nh := max(1, int(float64(w0)*s+0.5)), max(1, int(float64(h0)*s+0.5))
	dst := image.NewRGBA(image.Rect(0, 0, nw, nh))
	draw.CatmullRom.Scale(dst, dst.Bounds(), m, m.Bounds(), draw.Src, nil)
	return dst, nil
}

// encodeWebP writes m as WebP. Go has no WebP encoder of its own, so the
// fake borrows picbed's (imageproc) for this one step: the resize above,
// which is what the tests check, stays the fake's own.
func encodeWebP(b *bytes.Buffer, m image.Image) error {
	var p bytes.Buffer
	if err := png.Encode(&p, m); err != nil {
		return err
	}
	res, err := imageproc.Process(context.Background(), p.Bytes(), imageproc.Recipe{Format: imageproc.WebP, Quality: 75,
		Limits: imageproc.Limits{MaxPixels: 50_000_000, MaxSide: 65535, MaxFrames: 1}})
	if err != nil {
		return err
	}
	b.Write(res.Data)
	return nil
}
