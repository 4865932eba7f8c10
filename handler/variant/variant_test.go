package variant

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"picbed/imageproc"
)

func TestOffers(t *testing.T) {
	tests := []struct {
		name string
		im   Image
		want []int // of Widths()
	}{
		{"phone photo 4032", Image{Width: 4032, Height: 3024}, []int{400, 640, 960, 1280, 1920}},
		{"exactly 1920 wide: not 1920 itself", Image{Width: 1920, Height: 1080}, []int{400, 640, 960, 1280}},
		{"1600", Image{Width: 1600, Height: 1200}, []int{400, 640, 960, 1280}},
		{"641", Image{Width: 641, Height: 10}, []int{400, 640}},
		{"small logo", Image{Width: 288, Height: 94}, nil},
		{"400 wide", Image{Width: 400, Height: 300}, nil},
		{"animation", Image{Width: 2000, Height: 1000, Animated: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, w := range Widths() {
				if tt.im.Offers(w) {
					got = append(got, w)
				}
			}
			if !equalInts(got, tt.want) {
				t.Errorf("offered %v, want %v", got, tt.want)
			}
			for _, w := range []int{0, -1, 1, 399, 401, 500, 639, 800, 2560, 1 << 20} {
				if tt.im.Offers(w) {
					t.Errorf("Offers(%d) = true: a width outside the ladder", w)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestURLs(t *testing.T) {
	const u = "https://b.oss-cn-hangzhou.aliyuncs.com/img/2026/11/a.jpg"
	tests := []struct {
		name   string
		n      Namer
		format imageproc.Format
		w      int
		want   string
	}{
		{"local", Namer{}, imageproc.JPEG, 640, u + "?w=640"},
		{"oss keeps the format", Namer{OSS: true}, imageproc.JPEG, 960, u + "?x-oss-process=image/resize,w_960"},
		{"oss webp configured", Namer{OSS: true, WebP: true}, imageproc.PNG, 400, u + "?x-oss-process=image/resize,w_400/format,webp"},
		{"oss webp stored webp", Namer{OSS: true, WebP: true}, imageproc.WebP, 400, u + "?x-oss-process=image/resize,w_400"},
		{"oss style", Namer{OSS: true, Styles: map[int]string{640: "blog-640"}}, imageproc.JPEG, 640, u + "?x-oss-process=style/blog-640"},
		{"oss style for another width", Namer{OSS: true, Styles: map[int]string{640: "blog-640"}}, imageproc.JPEG, 1280, u + "?x-oss-process=image/resize,w_1280"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.n.URL(u, tt.format, tt.w); got != tt.want {
				t.Errorf("URL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestForAndHTML(t *testing.T) {
	n := Namer{}
	im := Image{URL: "http://h/f/img/a.jpg", Width: 1600, Height: 1200, Format: imageproc.JPEG}
	s := n.For(im)
	if s.Thumbnail != "http://h/f/img/a.jpg?w=400" {
		t.Errorf("thumbnail = %q", s.Thumbnail)
	}
	want := []Link{{640, 480, "http://h/f/img/a.jpg?w=640"}, {960, 720, "http://h/f/img/a.jpg?w=960"}, {1280, 960, "http://h/f/img/a.jpg?w=1280"}}
	if len(s.Variants) != len(want) {
		t.Fatalf("variants = %+v, want %+v", s.Variants, want)
	}
	for i := range want {
		if s.Variants[i] != want[i] {
			t.Errorf("variant %d = %+v, want %+v", i, s.Variants[i], want[i])
		}
	}
	got := n.HTML(im, `a "quoted" <b>`)
	wantHTML := `<img src="http://h/f/img/a.jpg" srcset="http://h/f/img/a.jpg?w=400 400w, http://h/f/img/a.jpg?w=640 640w, ` +
		`http://h/f/img/a.jpg?w=960 960w, http://h/f/img/a.jpg?w=1280 1280w, http://h/f/img/a.jpg 1600w" ` +
		`sizes="(max-width: 1600px) 100vw, 1600px" width="1600" height="1200" loading="lazy" decoding="async" alt="a &#34;quoted&#34; &lt;b&gt;">`
	if got != wantHTML {
		t.Errorf("HTML =\n%s\nwant\n%s", got, wantHTML)
	}

	small := Image{URL: "http://h/f/img/logo.png", Width: 288, Height: 94, Format: imageproc.PNG}
	if s := n.For(small); s.Thumbnail != small.URL || s.Variants == nil || len(s.Variants) != 0 {
		t.Errorf("small image: %+v, want the image itself as thumbnail and no variants ([] not null)", s)
	}
	if got := n.HTML(small, "logo"); got != `<img src="http://h/f/img/logo.png" width="288" height="94" loading="lazy" decoding="async" alt="logo">` {
		t.Errorf("small HTML = %s", got)
	}
	// Odd sizes: the announced height is what imageproc makes.
	odd := Image{URL: "u", Width: 3001, Height: 1999}
	for _, v := range n.For(odd).Variants {
		if _, h := imageproc.FitSize(3001, 1999, v.Width, 0); v.Height != h {
			t.Errorf("%d wide: height %d, imageproc makes %d", v.Width, v.Height, h)
		}
	}
}

func TestPick(t *testing.T) {
	n := Namer{}
	im := Image{URL: "u", Width: 1000, Height: 500}
	tests := []struct {
		w    int
		want string
		ok   bool
	}{
		{640, "u?w=640", true},
		{960, "u?w=960", true},
		{1280, "u", true}, // wider than the image: the image itself
		{400, "u?w=400", true},
		{500, "", false},
		{0, "", false},
	}
	for _, tt := range tests {
		got, ok := n.Pick(im, tt.w)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Pick(%d) = %q, %v; want %q, %v", tt.w, got, ok, tt.want, tt.ok)
		}
	}
}

// memCache is a Cache in memory that counts writes.
type memCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int
}

var errMiss = errors.New("miss")

func (c *memCache) GetVariant(_ context.Context, key, name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.m[key+"/"+name]; ok {
		return b, nil
	}
	return nil, errMiss
}

func (c *memCache) PutVariant(_ context.Context, key, name string, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key+"/"+name] = b
	c.puts++
	return nil
}

// TestMakerOnce: requests that arrive while a variant is being made wait
// for it. The first Make blocks until every request has entered Get and is
// waiting (a barrier, not a sleep), so all of them overlap it.
func TestMakerOnce(t *testing.T) {
	const n = 16
	cache := &memCache{}
	var made atomic.Int32
	release := make(chan struct{})
	m := &Maker{Cache: cache, Make: func(ctx context.Context, key string, w int) ([]byte, error) {
		made.Add(1)
		<-release
		return []byte(key + "@" + strings.Repeat("x", w/100)), nil
	}}
	var wg sync.WaitGroup
	results := make([][]byte, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := m.Get(context.Background(), "img/a.jpg", "w640.jpg", 640)
			if err != nil {
				t.Error(err)
			}
			results[i] = b
		}()
	}
	// Barrier: wait until one request is making and the other n-1 wait on it.
	for m.Waiting("img/a.jpg", "w640.jpg") != n-1 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if made.Load() != 1 || cache.puts != 1 {
		t.Errorf("made %d times, cached %d times; want once", made.Load(), cache.puts)
	}
	for i, b := range results {
		if string(b) != "img/a.jpg@xxxxxx" {
			t.Errorf("request %d got %q", i, b)
		}
	}
	// Later requests come from the cache.
	if _, err := m.Get(context.Background(), "img/a.jpg", "w640.jpg", 640); err != nil || made.Load() != 1 {
		t.Errorf("a later request made it again (%d) or failed: %v", made.Load(), err)
	}
}
