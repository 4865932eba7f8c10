package handler

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"picbed/handler/cms"
	"picbed/handler/fetch"
	"picbed/storage"
)

// chevBody is a Chevereto request body in one of the shapes real clients
// send; key "" leaves the key out.
func chevBody(t testing.TB, shape string, img []byte, key string) (io.Reader, string) {
	t.Helper()
	switch shape {
	case "multipart key first", "multipart key last", "multipart no key":
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		if shape == "multipart key first" && key != "" {
			mw.WriteField("key", key)
		}
		mw.WriteField("format", "json")
		fw, _ := mw.CreateFormFile("source", "photo.jpg")
		fw.Write(img)
		if shape == "multipart key last" && key != "" {
			mw.WriteField("key", key)
		}
		mw.Close()
		return &b, mw.FormDataContentType()
	case "form source first":
		// imgbb-uploader's Chevereto mode: querystring.stringify({source, key})
		s := url.Values{"source": {base64.StdEncoding.EncodeToString(img)}}.Encode()
		if key != "" {
			s += "&key=" + url.QueryEscape(key)
		}
		return strings.NewReader(s), "application/x-www-form-urlencoded"
	case "form key first":
		// Python requests.post(url, {"key": ..., "image": b64})
		s := "key=" + url.QueryEscape(key) + "&" + url.Values{"image": {base64.StdEncoding.EncodeToString(img)}}.Encode()
		return strings.NewReader(s), "application/x-www-form-urlencoded"
	}
	t.Fatalf("no shape %q", shape)
	return nil, ""
}

// TestCheveretoClientsKeepWorking: every field order real clients use
// uploads; the key may come before or after the image.
func TestCheveretoClientsKeepWorking(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	photo := fixture(t, "phone.jpg")
	for _, shape := range []string{"multipart key first", "multipart key last", "form source first", "form key first"} {
		t.Run(shape, func(t *testing.T) {
			body, ct := chevBody(t, shape, photo, testToken)
			req := must(http.NewRequest("POST", s.URL+"/api/1/upload", body))
			req.Header.Set("Content-Type", ct)
			resp, b := s.send(t, req)
			if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"url"`)) {
				t.Fatalf("status %d: %.300s", resp.StatusCode, b)
			}
		})
	}
	t.Run("imgbb-uploader: key in the query", func(t *testing.T) {
		body := url.Values{"image": {base64.StdEncoding.EncodeToString(photo)}}.Encode()
		req := must(http.NewRequest("POST", s.URL+"/api/1/upload?key="+testToken+"&name=x", strings.NewReader(body)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, b := s.send(t, req); resp.StatusCode != 200 {
			t.Fatalf("status %d: %.300s", resp.StatusCode, b)
		}
	})
}

// TestUnauthenticatedBodiesHoldLittle: eight unauthenticated 30 MB
// Chevereto requests at once (a file and no key, a wrong key after the
// file, base64 then a wrong key) make picbed allocate a small, fixed
// amount, not their bodies; each is refused 401.
func TestUnauthenticatedBodiesHoldLittle(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	img := make([]byte, 22<<20) // base64: ~30 MB
	rand.Read(img)
	type req struct {
		body []byte
		ct   string
	}
	var reqs []req
	for i := range 8 {
		shape, key := []string{"multipart no key", "multipart key last", "form source first", "form source first"}[i%4], "wrong-wrong-wrong-wrong"
		if i%4 == 3 {
			key = ""
		}
		r, ct := chevBody(t, shape, img, key)
		b, _ := io.ReadAll(r)
		reqs = append(reqs, req{b, ct})
	}
	img = nil
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	var wg sync.WaitGroup
	statuses := make([]int, len(reqs))
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hr, _ := http.NewRequest("POST", s.URL+"/api/1/upload", bytes.NewReader(r.body))
			hr.Header.Set("Content-Type", r.ct)
			resp, err := s.Client().Do(hr)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	runtime.ReadMemStats(&m1)
	for i, st := range statuses {
		if st != 401 {
			t.Errorf("request %d: status %d, want 401", i, st)
		}
	}
	// Eight bodies of ~30 MB: holding them costs 240 MB and more; the
	// scan costs buffers.
	if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 32<<20 {
		t.Errorf("eight unauthenticated requests allocated %d MiB", grew>>20)
	}
}

// TestWrongKeyBeforeTheFileReadsNoFile: a wrong key sent before the file
// is refused before the file is read (the request log's bytes_in).
func TestWrongKeyBeforeTheFileReadsNoFile(t *testing.T) {
	var logs syncBuffer
	s := startTestServer(t, serverOpts{opts: []Option{fixedClock, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))}})
	img := make([]byte, 8<<20)
	body, ct := chevBody(t, "multipart key first", img, "wrong-wrong-wrong-wrong")
	req := must(http.NewRequest("POST", s.URL+"/api/1/upload", body))
	req.Header.Set("Content-Type", ct)
	resp, b := s.send(t, req)
	if resp.StatusCode != 401 {
		t.Fatalf("status %d: %.200s", resp.StatusCode, b)
	}
	var in float64 = -1
	for _, l := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["route"] == "/api/1/upload" {
			in = m["bytes_in"].(float64)
		}
	}
	if in < 0 || in > 256<<10 {
		t.Errorf("bytes_in = %v of an 8 MiB body, want the key's part only", in)
	}
}

// TestAnonymousIsUploadOnly: PICBED_ALLOW_ANONYMOUS opens uploads, never
// listing, deleting or reading webhook jobs.
func TestAnonymousIsUploadOnly(t *testing.T) {
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.Tokens, c.AllowAnonymous = nil, true }})
	req := must(http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(fixture(t, "logo.png"))))
	req.Header.Set("Content-Type", "image/png")
	resp, b := s.send(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("anonymous upload: %d %s", resp.StatusCode, b)
	}
	key := decodeUploaded(t, b).Key
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/images"},
		{"DELETE", "/api/images/" + key},
		{"GET", "/api/v1/images"},
		{"DELETE", "/api/v1/images/" + key},
		{"GET", "/api/jobs/0123456789abcdef01234567"},
	} {
		for _, tok := range []string{"", "any-token-at-all-0123"} {
			r := must(http.NewRequest(c.method, s.URL+c.path, nil))
			if tok != "" {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, b := s.send(t, r)
			if resp.StatusCode != 401 {
				t.Errorf("%s %s (token %q) = %d %.200s, want 401", c.method, c.path, tok, resp.StatusCode, b)
			}
		}
	}
	if objs := objects(t, s.dir); len(objs) != 1 {
		t.Errorf("objects = %v, want the upload still there", objs)
	}
}

// TestOwnLinkCopiesOnlyPublicKeys: upload by URL of picbed's own link reads
// the store only for keys picbed publishes; the inbox and anything else in
// the bucket stay private.
func TestOwnLinkCopiesOnlyPublicKeys(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	ctx := context.Background()
	photo := fixture(t, "phone.jpg")
	for _, k := range []string{"inbox/private.jpg", "other/x.jpg"} {
		if err := s.store.Put(ctx, k, photo, storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatal(err)
		}
	}
	before := objects(t, s.dir)
	for _, k := range []string{"inbox/private.jpg", "other/x.jpg"} {
		req := s.newRequest(t, "POST", "/upload", strings.NewReader(`{"url":"`+s.URL+`/f/`+k+`"}`), "application/json")
		resp, b := s.send(t, req)
		if code, _ := errorBody(t, b); resp.StatusCode != 403 || code != "forbidden" {
			t.Errorf("%s: %d %s, want 403 forbidden", k, resp.StatusCode, b)
		}
	}
	if after := objects(t, s.dir); len(after) != len(before) {
		t.Errorf("objects %v -> %v: a private object was copied", before, after)
	}
	// A public image still copies (with the request's options).
	req := s.newRequest(t, "POST", "/upload", bytes.NewReader(photo), "image/jpeg")
	_, b := s.send(t, req)
	u := decodeUploaded(t, b)
	req = s.newRequest(t, "POST", "/upload?w=100", strings.NewReader(`{"url":"`+u.URL+`"}`), "application/json")
	if resp, b := s.send(t, req); resp.StatusCode != 200 {
		t.Errorf("own public link: %d %s", resp.StatusCode, b)
	}
}

// TestURLPasswordsNeverLoggedOrAnswered: a password in a URL reaches
// neither the log nor an answer, on every route that takes URLs.
func TestURLPasswordsNeverLoggedOrAnswered(t *testing.T) {
	var logs syncBuffer
	const pw = "pw-in-a-url-0123456789"
	e := newRhEnv(t, nil, WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	link := "http://alice:" + pw + "@example.com/a.jpg"
	var answers []string
	rec, _ := e.uploadJSON(t, map[string]string{"url": link})
	answers = append(answers, rec.Body.String())
	md := "![a](" + link + ") and ![b](" + e.origin.URL + "/2024/05/phone.jpg?u=1)"
	rec, _ = e.do(t, "POST", "/api/rehost", "application/json", strings.NewReader(`{"markdown": `+jsonString(md)+`}`), "Authorization", "Bearer "+rhToken)
	var rh struct{ Images []Rehosted }
	json.Unmarshal(rec.Body.Bytes(), &rh)
	list, _ := json.Marshal(rh.Images) // the document itself comes back as sent
	answers = append(answers, string(list))
	rec, _ = e.do(t, "POST", "/picgo/upload?secret="+rhToken, "application/json", strings.NewReader(`{"list": [`+jsonString(link)+`]}`))
	answers = append(answers, rec.Body.String())
	if len(rh.Images) != 2 || rh.Images[1].URL == "" {
		t.Fatalf("the rehost did not run: %s", rec.Body)
	}
	for i, a := range answers {
		if strings.Contains(a, pw) {
			t.Errorf("answer %d repeats the password: %s", i, a)
		}
	}
	if strings.Contains(logs.String(), pw) {
		t.Errorf("the log holds the password:\n%s", logs.String())
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// deadlineFetcher serves every URL with distinct bytes of one PNG and
// records the deadline each fetch was given.
type deadlineFetcher struct {
	png       []byte
	mu        sync.Mutex
	deadlines []time.Time
	noDL      int
}

func (f *deadlineFetcher) Get(ctx context.Context, rawURL string) (*fetch.Result, error) {
	f.mu.Lock()
	if dl, ok := ctx.Deadline(); ok {
		f.deadlines = append(f.deadlines, dl)
	} else {
		f.noDL++
	}
	f.mu.Unlock()
	u, _ := url.Parse(rawURL)
	return &fetch.Result{Data: append(bytes.Clone(f.png), rawURL...), URL: u, ContentType: "image/png"}, nil
}

// TestPicgoListHasOneBudget: the URLs of a PicGo JSON list are fetched
// under one deadline for the whole request, not each with a fresh one.
func TestPicgoListHasOneBudget(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	f := &deadlineFetcher{png: fixture(t, "logo.png")}
	s.h.fetcher = f
	var list []string
	for i := range 5 {
		list = append(list, "https://img"+string(rune('a'+i))+".example.com/"+string(rune('a'+i))+".png")
	}
	b, _ := json.Marshal(map[string][]string{"list": list})
	req := must(http.NewRequest("POST", s.URL+"/picgo/upload?secret="+testToken, bytes.NewReader(b)))
	req.Header.Set("Content-Type", "application/json")
	resp, body := s.send(t, req)
	end := time.Now()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"success":true`)) {
		t.Fatalf("list upload: %d %s", resp.StatusCode, body)
	}
	if f.noDL > 0 || len(f.deadlines) != len(list) {
		t.Fatalf("%d of %d fetches had no deadline at all", f.noDL, len(list))
	}
	for i, d := range f.deadlines {
		if !d.Equal(f.deadlines[0]) {
			t.Errorf("fetch %d has deadline %v, fetch 0 %v: each fetch got its own time", i, d, f.deadlines[0])
		}
	}
	if f.deadlines[0].After(end.Add(remoteBudget)) {
		t.Errorf("the list's deadline is past the request's budget")
	}
}

// TestFetchDenyFromConfig: the door's extra denied host (the FC runtime
// API) is refused by upload by URL.
func TestFetchDenyFromConfig(t *testing.T) {
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.FetchDeny = []netip.Prefix{netip.MustParsePrefix("21.0.5.7/32")} }})
	req := s.newRequest(t, "POST", "/upload", strings.NewReader(`{"url":"http://21.0.5.7:9000/2020-11-11/runtime/invocation/next"}`), "application/json")
	resp, b := s.send(t, req)
	if code, _ := errorBody(t, b); resp.StatusCode != 400 || code != "url_refused" {
		t.Errorf("runtime API host: %d %s, want 400 url_refused", resp.StatusCode, b)
	}
}

// TestInboxRefusalsArePermanent: a record whose name the store refuses is
// a failed outcome (logged), never an error FC would retry forever.
func TestInboxRefusalsArePermanent(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	for _, key := range []string{"inbox/.DS_Store", "inbox/a//b.jpg", `inbox/a\b.jpg`, "inbox/\xff.jpg", "inbox/x\u202egpj.jpg"} {
		out, err := s.h.ProcessObject(context.Background(), InboxObject{Event: "ObjectCreated:PutObject", Key: key, Size: -1})
		if err != nil || out.Status != Failed || out.Reason == "" {
			t.Errorf("%q: outcome %+v, err %v; want failed with a reason and no error", key, out, err)
		}
	}
}

// TestAnonymousPageUploadsWithoutLogin: in anonymous mode the page says so
// (it uploads without a token and shows no gallery, which needs one).
func TestAnonymousPageUploadsWithoutLogin(t *testing.T) {
	for _, anon := range []bool{false, true} {
		s := newTestServer(t, serverOpts{cfg: func(c *Config) {
			if anon {
				c.Tokens, c.AllowAnonymous = nil, true
			}
		}})
		_, b := s.send(t, must(http.NewRequest("GET", s.URL+"/", nil)))
		want := `data-anonymous="` + map[bool]string{false: "false", true: "true"}[anon] + `"`
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("anonymous=%v: the page lacks %s", anon, want)
		}
	}
}

// TestJobImagesHidePasswords: a write-back job's image list (kept in its
// record, answered by GET /api/jobs/{id}) names each source without its
// user name and password.
func TestJobImagesHidePasswords(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	const pw = "pw-in-a-post-0123456789"
	doc := cms.Doc{Field: "markdown", Text: "![a](http://alice:" + pw + "@example.com/a.jpg)"}
	out, imgs := cmsRewriter{h: s.h, rc: s.h.cfg.Recipe()}.Rewrite(context.Background(), []cms.Doc{doc}, "")
	if len(imgs) != 1 || imgs[0].Error == "" {
		t.Fatalf("images = %+v, want one refused", imgs)
	}
	if b, _ := json.Marshal(imgs); strings.Contains(string(b), pw) {
		t.Errorf("the job's images repeat the password: %s", b)
	}
	if out[0] != doc.Text {
		t.Errorf("the post changed: %q", out[0])
	}
}
