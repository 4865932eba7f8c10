package handler

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestShareXUploader reads the shipped clients/sharex/picbed.sxcu, sends the
// request it describes the way ShareX does (multipart, the file under
// FileFormName, Arguments as fields, Headers), and resolves its URL,
// ThumbnailURL, DeletionURL and ErrorMessage syntax against picbed's answers.
func TestShareXUploader(t *testing.T) {
	b, err := os.ReadFile("../clients/sharex/picbed.sxcu")
	if err != nil {
		t.Fatal(err)
	}
	var sx struct {
		RequestMethod, RequestURL, Body, FileFormName string
		URL, ThumbnailURL, DeletionURL, ErrorMessage  string
		Headers, Arguments                            map[string]string
	}
	if err := json.Unmarshal(b, &sx); err != nil {
		t.Fatal(err)
	}
	if sx.RequestMethod != "POST" || sx.Body != "MultipartFormData" {
		t.Fatalf("method %q body %q", sx.RequestMethod, sx.Body)
	}
	e := newClientEnv(t, nil)
	ru, err := url.Parse(sx.RequestURL)
	if err != nil {
		t.Fatal(err)
	}
	send := func(token string) clientAnswer {
		parts := []formPart{{field: sx.FileFormName, filename: "ShareX_2026-11-27_01.png", contentType: "image/png", data: clientPNG(t, 40, 30, 77)}}
		for k, v := range sx.Arguments {
			parts = append(parts, formPart{field: k, data: []byte(v)})
		}
		body, ct := multipartBody(t, parts...)
		headers := []string{"Content-Type: " + ct, "User-Agent: ShareX/16.0"}
		for k, v := range sx.Headers {
			headers = append(headers, k+": "+strings.ReplaceAll(v, "YOUR_PICBED_TOKEN", token))
		}
		return e.do(t, "POST", ru.Path, body, headers...)
	}
	jsonSyntax := regexp.MustCompile(`^\{json:([a-z_.]+)\}$`)
	resolve := func(expr string, a clientAnswer) string {
		m := jsonSyntax.FindStringSubmatch(expr)
		if m == nil {
			t.Fatalf("%q is not ShareX's {json:path} syntax", expr)
		}
		return str(walkJSON(a.json(t), m[1]))
	}

	a := send(clientToken)
	if a.status != 200 {
		t.Fatalf("upload: status %d: %s", a.status, a.body)
	}
	link, thumb, del := resolve(sx.URL, a), resolve(sx.ThumbnailURL, a), resolve(sx.DeletionURL, a)
	if !strings.HasPrefix(link, "https://img.example.com/img/") || thumb != link {
		t.Errorf("URL %q thumbnail %q", link, thumb)
	}
	if !strings.HasPrefix(del, e.srv.URL+"/api/1/delete/img/") {
		t.Errorf("DeletionURL = %q", del)
	}
	// ShareX opens the deletion URL in a browser: a page that asks.
	if got := e.do(t, "GET", strings.TrimPrefix(del, e.srv.URL), nil); got.status != 200 || !strings.Contains(string(got.body), "<form") {
		t.Errorf("deletion URL: status %d", got.status)
	}
	bad := send("a-wrong-token-0123456789")
	if bad.status != 401 || !strings.Contains(resolve(sx.ErrorMessage, bad), "key") {
		t.Errorf("wrong token: status %d, ErrorMessage %q", bad.status, resolve(sx.ErrorMessage, bad))
	}
}
