package imageproc_test

// Benchmarks over the real photo set made by scripts/make-photos.sh (run by
// `make bench`). Without bench/photos they skip, so `go test` stays fast.
//
// Each photo is its own sub-benchmark and reports, besides ns/op and
// allocations: cpu-ms/op (user+system of the whole process, all threads),
// out-B (output bytes), and psnr-dB / ssim against the reference (the
// oriented source fitted with ImageMagick's Lanczos, bench/photos/ref/),
// with the watermark's corner left out of both scores.

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"picbed/imageproc"
	"picbed/imageproc/internal/quality"
	"picbed/imageproc/internal/vp8"

	_ "golang.org/x/image/webp"
)

// photoDir is the photo set: $BENCH_PHOTOS (the Makefile passes its
// BENCH_PHOTOS as an absolute path), else the repository's bench/photos.
var photoDir = cmp.Or(os.Getenv("BENCH_PHOTOS"), "../bench/photos")

// photos lists the set's files, or skips the benchmark when the set is absent.
func photos(b *testing.B, set string) []string {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(photoDir, set, "*.jpg"))
	if set == "heic" { // the 12 MP ones; h48 has its own benchmark
		files, _ = filepath.Glob(filepath.Join(photoDir, set, "h0*.heic"))
	}
	if len(files) == 0 {
		b.Skipf("no photos in %s/%s: run `make bench` (it runs scripts/make-photos.sh)", photoDir, set)
	}
	return files
}

// standardRecipe is the standard job: fit 1920, logo at 15 % width and 70 %
// opacity bottom-right, strip metadata, quality 82.
func standardRecipe(b *testing.B, format imageproc.Format) imageproc.Recipe {
	b.Helper()
	logo, err := os.ReadFile(filepath.Join(photoDir, "logo.png"))
	if err != nil {
		b.Skipf("no logo: run `make bench` (scripts/make-photos.sh): %v", err)
	}
	return imageproc.Recipe{
		MaxWidth: 1920, MaxHeight: 1920, Format: format, Quality: 82, Strip: true,
		Watermark: &imageproc.Watermark{Image: logo, Position: "bottom-right", Opacity: 0.7, Scale: 0.15},
	}
}

func BenchmarkStandard(b *testing.B) {
	benchJob(b, "std", standardRecipe(b, ""), refScore)
}

// BenchmarkPlain is the standard job without the watermark: decode,
// orient, fit, encode (sharp spends about half its standard job compositing).
func BenchmarkPlain(b *testing.B) {
	r := standardRecipe(b, "")
	r.Watermark = nil
	benchJob(b, "std", r, refScore)
}

// BenchmarkHEIC is an iPhone photo (a 12 MP grid of 512x512 HEVC tiles)
// to a 1920 JPEG: the plain job on a HEIC (vipsthumbnail is the peer).
func BenchmarkHEIC(b *testing.B) {
	r := standardRecipe(b, "")
	r.Watermark = nil
	if err := imageproc.FillCodecCache(benchCodecCache()); err != nil { // compiling is not the job
		b.Fatal(err)
	}
	benchJob(b, "heic", r, nil)
}

func BenchmarkWebP(b *testing.B) {
	benchJob(b, "std", standardRecipe(b, imageproc.WebP), refScore)
}

// BenchmarkLight is a small photo with only metadata to drop: the lossless path.
func BenchmarkLight(b *testing.B) {
	benchJob(b, "light", imageproc.Recipe{Strip: true, Quality: 82}, sourceScore)
}

// BenchmarkLightReencode is the yardstick for the lossless path: the same
// photos decoded and re-encoded (image/jpeg, quality 90), what a pipeline
// without a lossless strip would do.
func BenchmarkLightReencode(b *testing.B) {
	for _, file := range photos(b, "light") {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(file), ".jpg"), func(b *testing.B) {
			b.ReportAllocs()
			var out bytes.Buffer
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				m, err := jpeg.Decode(bytes.NewReader(src))
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				if err := jpeg.Encode(&out, m, &jpeg.Options{Quality: 90}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(out.Len()), "out-B")
		})
	}
}

type scorer func(b *testing.B, file string, src, out []byte) (quality.Scores, bool)

func benchJob(b *testing.B, set string, r imageproc.Recipe, score scorer) {
	for _, file := range photos(b, set) {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".jpg"), ".heic"), func(b *testing.B) {
			b.ReportAllocs()
			var res imageproc.Result
			b.StopTimer()
			runtime.GC() // the previous photo's garbage is not this one's cost
			b.StartTimer()
			cpu0 := cpuTime()
			steps := map[string]time.Duration{}
			for i := 0; i < b.N; i++ {
				res, err = imageproc.Process(context.Background(), src, r)
				if err != nil {
					b.Fatal(err)
				}
				for _, st := range res.Info.Steps {
					steps[st.Name] += st.Duration
				}
			}
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(res.Data)), "out-B")
			for _, name := range []string{"decode", "resize", "orient", "watermark", "encode"} {
				if d, ok := steps[name]; ok { // wall time of the step (it may use both cores)
					b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), name+"-ms")
				}
			}
			if score == nil {
				return
			}
			if s, ok := score(b, file, src, res.Data); ok {
				b.ReportMetric(s.PSNR, "psnr-dB")
				b.ReportMetric(s.SSIM, "ssim")
			}
		})
	}
}

// cpuTime is the user+system time of the whole process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// refScore compares out with bench/photos/ref/NAME.png, outside the
// watermark's corner. A size mismatch is logged, not scored.
func refScore(b *testing.B, file string, _, out []byte) (quality.Scores, bool) {
	ref := decodeFile(b, filepath.Join(photoDir, "ref", strings.TrimSuffix(filepath.Base(file), ".jpg")+".png"))
	got := decodeBytes(b, out)
	rb := ref.Bounds()
	s, err := quality.Compare(got, ref, quality.WatermarkBox(rb.Dx(), rb.Dy()))
	if err != nil {
		b.Logf("%s: not scored: %v", filepath.Base(file), err)
		return s, false
	}
	return s, true
}

// sourceScore compares out with the source pixels: the lossless path must
// give 99 dB (identical).
func sourceScore(b *testing.B, _ string, src, out []byte) (quality.Scores, bool) {
	s, err := quality.Compare(decodeBytes(b, out), decodeBytes(b, src), image.Rectangle{})
	if err != nil {
		b.Logf("not scored: %v", err)
		return s, false
	}
	return s, true
}

func decodeFile(b *testing.B, path string) image.Image {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("reference missing (rerun scripts/make-photos.sh): %v", err)
	}
	return decodeBytes(b, data)
}

func decodeBytes(b *testing.B, data []byte) image.Image {
	b.Helper()
	m, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatalf("decoding output: %v", err)
	}
	if format == "webp" { // limited-range planes: convert as libwebp does
		if c, ok := vp8.ToNRGBA(m); ok {
			return c
		}
	}
	return m
}

// BenchmarkPeakRSS runs one standard job per photo in a fresh child process
// and reports its peak resident set (VmHWM): the memory FC bills and caps.
func BenchmarkPeakRSS(b *testing.B) {
	peakRSS(b, photos(b, "std"))
}

// BenchmarkHEIC48PeakRSS is the worst input s.yaml is sized for: a 48 MP
// iPhone HEIC through the standard job, in a fresh process (peak RSS, CPU
// and wall time of the job, the codec compilation excluded).
func BenchmarkHEIC48PeakRSS(b *testing.B) {
	f := filepath.Join(photoDir, "heic", "h48.heic")
	if _, err := os.Stat(f); err != nil {
		b.Skipf("no %s: run scripts/make-photos.sh", f)
	}
	peakRSS(b, []string{f})
}

// benchCodecCache is the codec compilation cache the children load from,
// as a cold FC instance loads the one shipped in the zip.
func benchCodecCache() string { return filepath.Join(os.TempDir(), "picbed-bench-wasmcache") }

func peakRSS(b *testing.B, files []string) {
	if err := imageproc.FillCodecCache(benchCodecCache()); err != nil {
		b.Fatal(err)
	}
	for _, file := range files {
		b.Run(strings.TrimSuffix(strings.TrimSuffix(filepath.Base(file), ".jpg"), ".heic"), func(b *testing.B) {
			var peak float64
			var cpu, wall int
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSSChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), "PICBED_RSS_PHOTO="+file)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				kib, err := parseField(out, "VmHWM:")
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				peak = max(peak, float64(kib)/1024)
				cpu, _ = parseField(out, "job-cpu-ms:")
				wall, _ = parseField(out, "job-wall-ms:")
			}
			b.ReportMetric(peak, "peak-MiB")
			b.ReportMetric(float64(cpu), "job-cpu-ms")
			b.ReportMetric(float64(wall), "job-wall-ms")
		})
	}
}

// TestPeakRSSChild is BenchmarkPeakRSS's child: one standard job, then the
// process's VmHWM. It does nothing unless PICBED_RSS_PHOTO names a photo.
func TestPeakRSSChild(t *testing.T) {
	file := os.Getenv("PICBED_RSS_PHOTO")
	if file == "" {
		t.Skip("BenchmarkPeakRSS's child process")
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	logo, err := os.ReadFile(filepath.Join(photoDir, "logo.png"))
	if err != nil {
		t.Fatal(err)
	}
	r := imageproc.Recipe{MaxWidth: 1920, MaxHeight: 1920, Quality: 82, Strip: true,
		Watermark: &imageproc.Watermark{Image: logo, Position: "bottom-right", Opacity: 0.7, Scale: 0.15}}
	if strings.HasSuffix(file, ".heic") { // loaded from the cache the parent filled, as on FC
		imageproc.UseCodecCache(benchCodecCache())
	}
	cpu0, t0 := cpuTime(), time.Now()
	if _, err := imageproc.Process(context.Background(), src, r); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("job-cpu-ms: %d\njob-wall-ms: %d\n", (cpuTime() - cpu0).Milliseconds(), time.Since(t0).Milliseconds())
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Println(line)
		}
	}
}

func parseField(out []byte, name string) (int, error) {
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == name {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("child printed no %s line", name)
}

// image.Decode needs the PNG decoder for the references
var _ = png.Decode
