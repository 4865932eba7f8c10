package osstest_test

import (
	"bytes"
	"image"
	"image/color"
	_ "image/gif"
	"image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"testing"

	_ "golang.org/x/image/webp"

	"picbed/storage/osstest"
)

func TestImageProcessing(t *testing.T) {
	srv := osstest.New(cred, "b")
	defer srv.Close()
	m := image.NewRGBA(image.Rect(0, 0, 1000, 600))
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	m.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, nil); err != nil {
		t.Fatal(err)
	}
	srv.Seed("b", "img/a.jpg", osstest.Object{Data: b.Bytes(), ContentType: "image/jpeg"})
	srv.Seed("b", "private/a.jpg", osstest.Object{Data: b.Bytes(), ContentType: "image/jpeg"})
	srv.SetBucketState("b", "private", `{"Version": "1", "Statement": [{"Effect": "Allow", "Principal": ["*"],
		"Action": ["oss:GetObject"], "Resource": ["acs:oss:*:*:b/img/*"]}]}`, false)
	srv.Style("b", "blog-640", "image/resize,w_640")

	tests := []struct {
		path, query string
		status      int
		format      string
		w, h        int
	}{
		{"/b/img/a.jpg", "", 200, "jpeg", 1000, 600},
		{"/b/img/a.jpg", "x-oss-process=image/resize,w_400", 200, "jpeg", 400, 240},
		{"/b/img/a.jpg", "x-oss-process=image/resize,w_640/format,webp", 200, "webp", 640, 384},
		{"/b/img/a.jpg", "x-oss-process=image/resize,w_1920", 200, "jpeg", 1000, 600}, // limit_1: never enlarged
		{"/b/img/a.jpg", "x-oss-process=style/blog-640", 200, "jpeg", 640, 384},
		{"/b/img/a.jpg", "x-oss-process=style/nope", 404, "", 0, 0},
		{"/b/img/a.jpg", "x-oss-process=image/resize,w_abc", 400, "", 0, 0},
		{"/b/img/a.jpg", "x-oss-process=resize,w_400", 400, "", 0, 0},
		{"/b/img/a.jpg", "x-oss-process=image/blur,r_3", 501, "", 0, 0},
		{"/b/private/a.jpg", "", 403, "", 0, 0}, // not public: needs a signature
		{"/b/img/missing.jpg", "x-oss-process=image/resize,w_400", 404, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path+"?"+tt.query, func(t *testing.T) {
			u := srv.URL + tt.path
			if tt.query != "" {
				u += "?" + tt.query
			}
			res, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
			if err != nil || format != tt.format || cfg.Width != tt.w || cfg.Height != tt.h {
				t.Errorf("got %s %dx%d (%v), want %s %dx%d", format, cfg.Width, cfg.Height, err, tt.format, tt.w, tt.h)
			}
			if ct := res.Header.Get("Content-Type"); ct != "image/"+tt.format {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if o, _ := srv.Object("b", "img/a.jpg"); !bytes.Equal(o.Data, b.Bytes()) {
		t.Error("processing changed the stored object")
	}
}
