package hostile

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strings"
)

// accessCases are the requests that try to get more than an upload out of
// picbed: a body held before its key is checked, a stored object other than
// a public image copied out by URL, a password in a URL echoed or logged,
// addresses the fetcher must not reach, the management API without a token.
func accessCases(maxBytes int64, jpeg []byte) []Case {
	big := bytes.Repeat([]byte{0xFF}, int(maxBytes/2)) // half the limit, never read before the key
	big = append(append([]byte{}, jpeg[:2]...), big...)
	b64 := base64.StdEncoding.EncodeToString(big)
	chev := "/api/1/upload"
	return []Case{
		// Chevereto: the key may travel in the form, so the body is the
		// first thing a client without one sends.
		{Name: "chevereto: multipart file before any key", Path: chev, NoAuth: true, Body: multipartFields([][2]string{{"format", "json"}}, "source", big, nil), Header: multipartCT, Status: 401, Code: "unauthorized"},
		{Name: "chevereto: wrong key field before the file", Path: chev, NoAuth: true, Body: multipartFields([][2]string{{"key", "wrong-wrong-wrong-wrong"}}, "source", big, nil), Header: multipartCT, Status: 401, Code: "unauthorized", MaxRead: 64 << 10},
		{Name: "chevereto: wrong key field after the file", Path: chev, NoAuth: true, Body: multipartFields(nil, "source", big, [][2]string{{"key", "wrong-wrong-wrong-wrong"}}), Header: multipartCT, Status: 401, Code: "unauthorized"},
		{Name: "chevereto: urlencoded base64, wrong key after it", Path: chev, NoAuth: true, Header: ct("application/x-www-form-urlencoded"),
			Body: text(url.Values{"source": {b64}}.Encode() + "&key=wrong-wrong-wrong-wrong"), Status: 401, Code: "unauthorized"},
		{Name: "chevereto: urlencoded base64, no key", Path: chev, NoAuth: true, Header: ct("application/x-www-form-urlencoded"),
			Body: text(url.Values{"source": {b64}}.Encode()), Status: 401, Code: "unauthorized"},

		// The management API is never anonymous.
		{Name: "manage: list without a token", Method: "GET", Path: "/api/images", NoAuth: true, Status: 401, Code: "unauthorized"},
		{Name: "manage: delete without a token", Method: "DELETE", Path: "/api/images/img/x.png", NoAuth: true, Status: 401, Code: "unauthorized"},

		// Upload by URL.
		{Name: "by URL: own link to a non-public key", Header: ct("application/json"), Status: 403, Code: "forbidden",
			BaseBody: func(base string) io.Reader { return jsonURL(base + "/f/inbox/private.jpg") }},
		{Name: "by URL: password in the URL", Header: ct("application/json"), Status: 400, Code: "bad_url", Secret: "hunter2-in-a-url",
			Body: func() io.Reader { return jsonURL("http://alice:hunter2-in-a-url@example.com/a.jpg") }},
		{Name: "by URL: discard prefix 100::/64", Header: ct("application/json"), Status: 400, Code: "url_refused",
			Body: func() io.Reader { return jsonURL("http://[100::1]/a.jpg") }},
		{Name: "by URL: documentation prefix 2001:db8::/32", Header: ct("application/json"), Status: 400, Code: "url_refused",
			Body: func() io.Reader { return jsonURL("http://[2001:db8::7]/a.jpg") }},
	}
}

const boundary = "hostile-boundary-7c1f"

var multipartCT = ct("multipart/form-data; boundary=" + boundary)

// multipartFields is a multipart body in this exact order: the fields
// before, one file part, the fields after.
func multipartFields(before [][2]string, field string, file []byte, after [][2]string) func() io.Reader {
	var b bytes.Buffer
	put := func(fs [][2]string) {
		for _, f := range fs {
			b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f[0] + "\"\r\n\r\n" + f[1] + "\r\n")
		}
	}
	put(before)
	b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
	b.Write(file)
	b.WriteString("\r\n")
	put(after)
	b.WriteString("--" + boundary + "--\r\n")
	return raw(b.Bytes())
}

func jsonURL(u string) io.Reader {
	b, _ := json.Marshal(map[string]string{"url": u})
	return bytes.NewReader(b)
}

// ErrorOf reads the error code and message of an answer in any of
// picbed's shapes: {"error": code, "message": ...}, Chevereto's
// {"error": {"message", "context": code}} and Lsky's {"status": false,
// "message"} (code "").
func ErrorOf(body []byte) (code, message string) {
	var a struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Status  *bool           `json:"status"`
	}
	if json.Unmarshal(body, &a) != nil {
		return "", ""
	}
	if json.Unmarshal(a.Error, &code) == nil {
		return code, a.Message
	}
	var chev struct{ Message, Context string }
	if json.Unmarshal(a.Error, &chev) == nil && chev.Message != "" {
		return chev.Context, chev.Message
	}
	if a.Status != nil && !*a.Status {
		return "", a.Message
	}
	return "", ""
}

// Leaks tells whether the case's secret shows in s (an answer or a log).
func (c Case) Leaks(s string) bool { return c.Secret != "" && strings.Contains(s, c.Secret) }

// BytesRead is bytes_in of the request log line (JSON lines, as picbed
// logs) whose request_id is id; -1 when there is none.
func BytesRead(log, id string) int64 {
	for _, l := range strings.Split(log, "\n") {
		var m struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			BytesIn   *int64 `json:"bytes_in"`
		}
		if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "request" && m.RequestID == id && m.BytesIn != nil {
			return *m.BytesIn
		}
	}
	return -1
}
