package jpegx

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fixtures are the repository's JPEGs (testdata/ and this package's own
// progressive, restart-marker and 4:2:2 files) that image/jpeg decodes, the
// reference of the tests below; stdlibRefuses lists the others.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../../testdata/*.jpg")
	own, _ := filepath.Glob("testdata/*.jpg")
	files = append(files, own...)
	out := map[string][]byte{}
	for _, f := range files {
		if stdlibRefuses[filepath.Base(f)] {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) < 10 {
		t.Fatalf("%d JPEG fixtures in testdata/, want the repository's", len(out))
	}
	return out
}

// stdlibRefuses are fixtures image/jpeg cannot read and this decoder can
// (TestDecodesWhatStdlibRefuses): progressive with restart markers, as
// libvips writes them.
var stdlibRefuses = map[string]bool{"progressive-restart.jpg": true}

// synthetic encodes a small picture with image/jpeg in several shapes, so
// odd sizes and subsampling ratios are covered without files.
func synthetic(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, sz := range []image.Point{{1, 1}, {7, 9}, {17, 33}, {64, 48}, {101, 67}} {
		rgba := image.NewRGBA(image.Rect(0, 0, sz.X, sz.Y))
		gray := image.NewGray(rgba.Rect)
		for y := 0; y < sz.Y; y++ {
			for x := 0; x < sz.X; x++ {
				c := color.RGBA{uint8(x * 255 / sz.X), uint8(y * 255 / sz.Y), uint8((x + y) * 255 / (sz.X + sz.Y)), 255}
				rgba.Set(x, y, c)
				gray.Set(x, y, c)
			}
		}
		for name, m := range map[string]image.Image{"rgb": rgba, "gray": gray} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
				t.Fatal(err)
			}
			out[name+"-"+itoa(sz.X)+"x"+itoa(sz.Y)] = buf.Bytes()
		}
	}
	return out
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

// TestScale1MatchesStdlib: at full size every sample is within 2 of
// image/jpeg's (the two IDCTs round differently), planes compared directly.
func TestScale1MatchesStdlib(t *testing.T) {
	all := fixtures(t)
	for k, v := range synthetic(t) {
		all[k] = v
	}
	for name, data := range all {
		t.Run(name, func(t *testing.T) {
			want, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(context.Background(), data, 1)
			if err != nil { // every fixture is a variant this decoder handles
				t.Fatal(err)
			}
			if got.Bounds() != want.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
			}
			if d := maxDiff(got, want); d > 2 {
				t.Errorf("max sample difference %d, want <= 2", d)
			}
		})
	}
}

// TestScaledCloseToBoxAverage: at 1/2, 1/4, 1/8 the picture is close to
// image/jpeg's full decode averaged over s x s boxes.
func TestScaledCloseToBoxAverage(t *testing.T) {
	all := fixtures(t)
	for k, v := range synthetic(t) {
		all[k] = v
	}
	for name, data := range all {
		full, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []int{2, 4, 8} {
			t.Run(name+"/1:"+itoa(s), func(t *testing.T) {
				got, err := Decode(context.Background(), data, s)
				if err != nil {
					t.Fatal(err)
				}
				b := full.Bounds()
				want := image.Rect(0, 0, (b.Dx()+s-1)/s, (b.Dy()+s-1)/s)
				if got.Bounds() != want {
					t.Fatalf("bounds %v, want %v", got.Bounds(), want)
				}
				if b.Dx() < 16 || b.Dy() < 16 {
					return // too small for a meaningful comparison
				}
				if p := boxPSNR(got, full, s); p < 30 {
					t.Errorf("PSNR against the %dx%d box average %.1f dB, want >= 30", s, s, p)
				}
			})
		}
	}
}

func TestRejects(t *testing.T) {
	good := synthetic(t)["rgb-064x048"]
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"not a JPEG", []byte("GIF89a"), ErrFormat},
		{"truncated header", good[:40], ErrFormat},
		{"truncated scan", good[:len(good)/2], ErrFormat},
		{"scan garbled", garble(good), nil}, // any error or a picture, never a panic
	}
	prog := readOr(t, "testdata/prog420.jpg")
	tests = append(tests, []struct {
		name string
		data []byte
		want error
	}{
		{"progressive truncated", prog[:len(prog)*2/3], ErrFormat},
		{"progressive garbled", garble(prog), nil},
		{"arithmetic coding", withMarker(good, 0xC9), ErrUnsupported},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(context.Background(), tt.data, 2)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func readOr(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withMarker turns the SOF0 of a JPEG into another SOF marker.
func withMarker(b []byte, m byte) []byte {
	c := append([]byte(nil), b...)
	if i := bytes.Index(c, []byte{0xFF, 0xC0}); i >= 0 {
		c[i+1] = m
	}
	return c
}

func garble(b []byte) []byte {
	c := append([]byte(nil), b...)
	for i := len(c) / 2; i < len(c)-2; i += 7 {
		c[i] ^= 0x5a
	}
	return c
}

// FuzzDecode: no input panics or hangs; what decodes has the promised size.
func FuzzDecode(f *testing.F) {
	for _, data := range fixtures(f) {
		if len(data) < 40_000 { // small seeds keep the fuzzer fast
			f.Add(data)
		}
	}
	for _, data := range synthetic(f) {
		f.Add(data)
	}
	defer func(n int) { maxSamples = n }(maxSamples)
	maxSamples = 1 << 20 // giant headers: callers check pixel limits first
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range []int{1, 2, 8} {
			m, err := Decode(context.Background(), data, s)
			if err != nil {
				continue
			}
			if b := m.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
				t.Fatalf("scale %d: empty bounds %v without an error", s, b)
			}
			_ = m.At(m.Bounds().Max.X-1, m.Bounds().Max.Y-1)
		}
		if m, err := DecodeSplit(context.Background(), data, 2, 4); err == nil {
			if b := m.Bounds(); b.Dx() < 1 || b.Dy() < 1 || m.Cb.Rect.Empty() {
				t.Fatalf("split: empty bounds %v (chroma %v) without an error", b, m.Cb.Rect)
			}
			_ = m.At(m.Bounds().Max.X-1, m.Bounds().Max.Y-1)
		}
	})
}

func maxDiff(a, b image.Image) int {
	d := 0
	switch a := a.(type) {
	case *image.YCbCr:
		b := b.(*image.YCbCr)
		r := a.Rect
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				d = max(d, absDiff(a.Y[a.YOffset(x, y)], b.Y[b.YOffset(x, y)]))
				ca, cb := a.COffset(x, y), b.COffset(x, y)
				d = max(d, absDiff(a.Cb[ca], b.Cb[cb]), absDiff(a.Cr[ca], b.Cr[cb]))
			}
		}
	case *image.Gray:
		b := b.(*image.Gray)
		for y := a.Rect.Min.Y; y < a.Rect.Max.Y; y++ {
			for x := a.Rect.Min.X; x < a.Rect.Max.X; x++ {
				d = max(d, absDiff(a.GrayAt(x, y).Y, b.GrayAt(x, y).Y))
			}
		}
	}
	return d
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// boxPSNR compares each plane of small (scaled 1/s) with the same plane of
// full averaged over s x s boxes: that is what a reduced IDCT approximates,
// independent of chroma subsampling.
func boxPSNR(small, full image.Image, s int) float64 {
	var sum float64
	var n int
	add := func(a []uint8, as, aw, ah int, b []uint8, bs int) {
		for y := 0; y < ah; y++ {
			for x := 0; x < aw; x++ {
				var acc float64
				for j := 0; j < s; j++ {
					for i := 0; i < s; i++ {
						acc += float64(b[(y*s+j)*bs+x*s+i])
					}
				}
				d := float64(a[y*as+x]) - acc/float64(s*s)
				sum += d * d
				n++
			}
		}
	}
	switch a := small.(type) {
	case *image.YCbCr:
		b := full.(*image.YCbCr)
		w, h := b.Rect.Dx()/s, b.Rect.Dy()/s
		add(a.Y, a.YStride, w, h, b.Y, b.YStride)
		dx, dy := chromaDiv(b.SubsampleRatio)
		cw, ch := w/dx, h/dy
		add(a.Cb, a.CStride, cw, ch, b.Cb, b.CStride)
		add(a.Cr, a.CStride, cw, ch, b.Cr, b.CStride)
	case *image.Gray:
		b := full.(*image.Gray)
		add(a.Pix, a.Stride, b.Rect.Dx()/s, b.Rect.Dy()/s, b.Pix, b.Stride)
	}
	if sum == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/(sum/float64(n)))
}

func chromaDiv(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("../../../bench/photos/std/p01.jpg")
	if err != nil {
		b.Skip("no bench photos: run `make bench`")
	}
	b.Run("stdlib", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, s := range []int{1, 2, 4, 8} {
		b.Run("scale"+itoa(s), func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := Decode(context.Background(), data, s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the process's user+system time: steadier than wall time on a
// shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
