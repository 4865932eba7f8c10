package preauth

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"runtime"
	"strings"
	"testing"
)

const good = "the-right-key-0123456789"

func check(k string) error {
	if k != good {
		return errors.New("wrong key")
	}
	return nil
}

// filler is n bytes of 0xFF, made as they are read (no n-byte buffer).
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), f.n))
	for i := range p[:k] {
		p[i] = 0xFF
	}
	f.n -= int64(k)
	return k, nil
}

// counted counts the bytes read from it.
type counted struct {
	r io.Reader
	n int64
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

const bnd = "XyZ-boundary"

func field(name, v string) string {
	return "--" + bnd + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + v + "\r\n"
}

// multipartBody is fields before, a file of n bytes, fields after.
func multipartBody(before string, n int64, after string) io.Reader {
	head := before + "--" + bnd + "\r\nContent-Disposition: form-data; name=\"source\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
	return io.MultiReader(strings.NewReader(head), &filler{n}, strings.NewReader("\r\n"+after+"--"+bnd+"--\r\n"))
}

var mp = map[string]string{"boundary": bnd}

func TestKeyBeforeTheFileReadsNothingOfIt(t *testing.T) {
	s := New(t.TempDir(), 2, 64)
	for _, key := range []string{"wrong-wrong-wrong", good} {
		body := &counted{r: multipartBody(field("format", "json")+field("key", key), 30<<20, "")}
		rc, err := s.Key(body, "multipart/form-data", mp, "key", 64<<20, check)
		if body.n > 16<<10 {
			t.Errorf("key %q: %d bytes read before the key was checked", key, body.n)
		}
		if key != good {
			if err == nil || errors.Is(err, ErrNoKey) {
				t.Errorf("wrong key: err = %v, want the check's error", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		if n < 30<<20 {
			t.Errorf("replay gave %d bytes, want the whole body", n)
		}
	}
}

// TestReplayIsTheBody: whatever the order of the fields, the replay is the
// body byte for byte.
func TestReplayIsTheBody(t *testing.T) {
	img := bytes.Repeat([]byte("\xff\xd8 image bytes "), 20000) // 300 KB: past the memory spool
	var mpBody bytes.Buffer
	io.Copy(&mpBody, multipartBody(field("a", "1"), 0, ""))
	cases := []struct {
		name, ct string
		params   map[string]string
		body     []byte
	}{
		{"multipart key after file", "multipart/form-data", mp, []byte(field("format", "json") + "--" + bnd + "\r\nContent-Disposition: form-data; name=\"source\"; filename=\"a.jpg\"\r\n\r\n" + string(img) + "\r\n" + field("key", good) + "--" + bnd + "--\r\n")},
		{"multipart key first", "multipart/form-data", mp, []byte(field("key", good) + "--" + bnd + "\r\nContent-Disposition: form-data; name=\"source\"; filename=\"a.jpg\"\r\n\r\n" + string(img) + "\r\n--" + bnd + "--\r\n")},
		{"form source then key (imgbb-uploader)", "application/x-www-form-urlencoded", nil, []byte(url.Values{"source": {string(img)}}.Encode() + "&key=" + url.QueryEscape(good))},
		{"form key first (requests)", "application/x-www-form-urlencoded", nil, []byte("key=" + good + "&image=" + url.QueryEscape(string(img)))},
		{"form escaped name", "application/x-www-form-urlencoded", nil, []byte("source=x&k%65y=" + good)},
	}
	s := New(t.TempDir(), 1, 64)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, err := s.Key(bytes.NewReader(c.body), c.ct, c.params, "key", 1<<30, check)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, c.body) {
				t.Errorf("replay differs: %d bytes, want %d", len(got), len(c.body))
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s := New(t.TempDir(), 1, 8)
	cases := []struct {
		name, ct string
		params   map[string]string
		body     string
		limit    int64
		want     error
	}{
		{"no key", "multipart/form-data", mp, field("format", "json") + "--" + bnd + "--\r\n", 1 << 20, ErrNoKey},
		{"key only as a file", "multipart/form-data", mp, "--" + bnd + "\r\nContent-Disposition: form-data; name=\"key\"; filename=\"k\"\r\n\r\n" + good + "\r\n--" + bnd + "--\r\n", 1 << 20, ErrNoKey},
		{"form without key", "application/x-www-form-urlencoded", nil, "source=abc&format=json", 1 << 20, ErrNoKey},
		{"form empty", "application/x-www-form-urlencoded", nil, "", 1 << 20, ErrNoKey},
		{"no boundary", "multipart/form-data", nil, "x", 1 << 20, ErrMalformed},
		{"cut short", "multipart/form-data", mp, field("format", "json")[:20], 1 << 20, ErrMalformed},
		{"too many parts", "multipart/form-data", mp, strings.Repeat(field("f", "v"), 9) + field("key", good), 1 << 20, ErrMalformed},
		{"over the limit before the key", "application/x-www-form-urlencoded", nil, "source=" + strings.Repeat("A", 5000) + "&key=" + good, 1000, ErrTooLarge},
		{"over the limit, multipart", "multipart/form-data", mp, "--" + bnd + "\r\nContent-Disposition: form-data; name=\"source\"; filename=\"a\"\r\n\r\n" + strings.Repeat("A", 5000) + "\r\n" + field("key", good) + "--" + bnd + "--\r\n", 1000, ErrTooLarge},
		{"raw body", "image/jpeg", nil, "\xff\xd8", 1 << 20, ErrNoKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Key(strings.NewReader(c.body), c.ct, c.params, "key", c.limit, check)
			if !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Every refusal gave its slot back.
	rc, err := s.Key(strings.NewReader("key="+good), "application/x-www-form-urlencoded", nil, "key", 100, check)
	if err != nil {
		t.Fatalf("after the refusals: %v (a slot leaked?)", err)
	}
	rc.Close()
}

// blocked is a body that gives some bytes, then blocks until released:
// a stranger still sending.
type blocked struct {
	head    io.Reader
	release chan struct{}
}

func (b *blocked) Read(p []byte) (int, error) {
	if n, err := b.head.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	<-b.release
	return 0, io.EOF
}

// TestBusy: scans still waiting for their key hold the slots; a third is
// refused at once; an accepted key gives its slot back before the request
// ends.
func TestBusy(t *testing.T) {
	s := New(t.TempDir(), 2, 8)
	form := "application/x-www-form-urlencoded"
	release := make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := s.Key(&blocked{strings.NewReader("source=abc"), release}, form, nil, "key", 100, check)
			done <- err
		}()
	}
	for len(s.slots) < 2 { // both scans have taken their slot
		runtime.Gosched()
	}
	if _, err := s.Key(strings.NewReader("key="+good), form, nil, "key", 100, check); !errors.Is(err, ErrBusy) {
		t.Fatalf("third scan: err = %v, want ErrBusy", err)
	}
	close(release)
	for range 2 {
		if err := <-done; !errors.Is(err, ErrNoKey) {
			t.Errorf("stalled scan: err = %v, want ErrNoKey", err)
		}
	}
	var open []io.Closer
	for range 3 { // accepted keys hold no slot
		rc, err := s.Key(strings.NewReader("key="+good), form, nil, "key", 100, check)
		if err != nil {
			t.Fatalf("after the stalled scans ended: %v", err)
		}
		open = append(open, rc)
	}
	for _, c := range open {
		c.Close()
		c.Close() // twice is harmless
	}
}

// TestMemoryStaysSmall: a 30 MB body whose key comes last (or never) is
// spooled to disk; the scan allocates a small, fixed amount whatever the
// body's size.
func TestMemoryStaysSmall(t *testing.T) {
	s := New(t.TempDir(), 1, 64)
	for _, tc := range []struct {
		name  string
		after string
	}{{"wrong key last", field("key", "wrong-wrong")}, {"no key", ""}, {"right key last", field("key", good)}} {
		t.Run(tc.name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			rc, err := s.Key(multipartBody("", 30<<20, tc.after), "multipart/form-data", mp, "key", 64<<20, check)
			if err == nil {
				io.Copy(io.Discard, rc)
				rc.Close()
			}
			runtime.ReadMemStats(&m1)
			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 2<<20 {
				t.Errorf("a 30 MiB body allocated %d KiB", grew>>10)
			}
		})
	}
}
