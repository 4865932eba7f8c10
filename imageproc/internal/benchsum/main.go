// Command benchsum turns `go test -bench` output over the photo set (and,
// for `make bench-peers`, sharp's results) into the summary table `make
// bench` prints: per job the median CPU and wall time per photo, output
// bytes, quality against the reference and peak RSS, and with a peer the
// ratios picbed/peer.
//
// With -peer-heic (vipsthumbnail on the HEIC photos), -cold (tools/coldstart)
// it also prints those rows, and at the end the summary: every row of the
// performance issue's table with its ratio to the peer, from this one run.
//
// Usage: benchsum -go bench.txt [-peer sharp.jsonl -peer-out DIR -peer-rss rss.jsonl -photos DIR]
//
//	[-peer-heic vips.jsonl -peer-heic48 vips48.jsonl -cold cold.jsonl]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // image.Decode reads JPEG outputs
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"picbed/imageproc/internal/quality"
	"picbed/imageproc/internal/vp8"

	_ "golang.org/x/image/webp"
)

// row is one photo's figures for one pipeline.
type row struct {
	cpu, wall, bytes, psnr, ssim, peak, allocs, allocB float64
	jobCPU, jobWall                                    float64 // one job in a fresh process
}

// summary collects the issue table's rows: job, picbed/peer CPU ratio, peer.
var summary [][3]string

func main() {
	goOut := flag.String("go", "", "go test -bench output")
	peer := flag.String("peer", "", "peer results, JSON lines {file, cpu_ms, wall_ms, bytes}")
	peerOut := flag.String("peer-out", "", "directory with the peer's output images")
	peerRSS := flag.String("peer-rss", "", "peer peak RSS, JSON lines {file, peak_mib}")
	peerWebP := flag.String("peer-webp", "", "peer results of the WebP job, JSON lines")
	peerWebPOut := flag.String("peer-webp-out", "", "directory with the peer's WebP outputs")
	peerPlain := flag.String("peer-plain", "", "peer results of the job without watermark, JSON lines")
	peerPlainOut := flag.String("peer-plain-out", "", "directory with the peer's outputs of that job")
	photos := flag.String("photos", "bench/photos", "the photo set (for references)")
	peerHEIC := flag.String("peer-heic", "", "vipsthumbnail on the 12 MP HEICs, JSON lines")
	peerHEIC48 := flag.String("peer-heic48", "", "vipsthumbnail on the 48 MP HEIC, JSON lines (with peak_mib)")
	cold := flag.String("cold", "", "tools/coldstart output, JSON lines")
	flag.Parse()
	defer printSummary()
	jobs, err := parseGo(*goOut)
	if err != nil {
		fail(err)
	}
	for _, name := range []string{"Standard", "Plain", "WebP", "HEIC", "Light", "LightReencode"} {
		if rows := jobs[name]; len(rows) > 0 {
			printJob(name, rows)
		}
	}
	if rss := jobs["PeakRSS"]; len(rss) > 0 {
		fmt.Printf("peak RSS, one standard job in a fresh process: median %.1f MiB, max %.1f MiB\n\n",
			median(rss, func(r row) float64 { return r.peak }), maxOf(rss, func(r row) float64 { return r.peak }))
	}
	if *peer != "" {
		peers, err := parsePeer(*peer, *peerOut, *photos)
		if err != nil {
			fail(err)
		}
		if *peerRSS != "" {
			if err := addPeerRSS(peers, *peerRSS); err != nil {
				fail(err)
			}
		}
		compare("standard job", "sharp", jobs["Standard"], jobs["PeakRSS"], peers)
	}
	if *peerPlain != "" {
		peers, err := parsePeer(*peerPlain, *peerPlainOut, *photos)
		if err != nil {
			fail(err)
		}
		compare("plain job (no watermark)", "sharp", jobs["Plain"], nil, peers)
	}
	if *peerWebP != "" {
		peers, err := parsePeer(*peerWebP, *peerWebPOut, *photos)
		if err != nil {
			fail(err)
		}
		compare("WebP job", "sharp", jobs["WebP"], nil, peers)
	}
	if *peerHEIC != "" {
		peers, err := parsePeer(*peerHEIC, "", *photos)
		if err != nil {
			fail(err)
		}
		compare("HEIC 12 MP -> fit 1920 JPEG", "vipsthumbnail", jobs["HEIC"], nil, peers)
	}
	if h := jobs["HEIC48PeakRSS"]["h48"]; h.peak > 0 {
		fmt.Printf("\n48 MP HEIC, standard job in a fresh process (codecs loaded from the cache): CPU %.0f ms, wall %.0f ms, peak RSS %.1f MiB\n",
			h.jobCPU, h.jobWall, h.peak)
		if *peerHEIC48 != "" {
			peers, err := parsePeer(*peerHEIC48, "", *photos)
			if err != nil {
				fail(err)
			}
			if p := peers["h48"]; p.cpu > 0 {
				fmt.Printf("  vipsthumbnail (fit 1920, no watermark): CPU %.0f ms, wall %.0f ms, peak RSS %.1f MiB\n", p.cpu, p.wall, p.peak)
			}
		}
	}
	if *cold != "" {
		if err := printCold(*cold); err != nil {
			fail(err)
		}
	}
}

// printCold prints tools/coldstart's rows: process start to the first
// answer, and per codec the first upload that needs it against the second.
func printCold(path string) error {
	type cold struct {
		Mode       string             `json:"mode"`
		Start      float64            `json:"start_to_healthz_ms"`
		FirstWall  map[string]float64 `json:"first_wall_ms"`
		SecondWall map[string]float64 `json:"second_wall_ms"`
		FirstCPU   map[string]float64 `json:"first_cpu_ms"`
		SecondCPU  map[string]float64 `json:"second_cpu_ms"`
	}
	lines, err := jsonLines[cold](path)
	if err != nil {
		return err
	}
	fmt.Printf("\ncold start through the real binary (medians of fresh processes; CPU of the server process, 10 ms ticks)\n")
	fmt.Printf("%-14s %10s | %-5s %9s %9s %9s | %9s %9s %9s\n", "mode", "start ms", "codec", "1st cpu", "2nd cpu", "extra", "1st wall", "2nd wall", "extra")
	for _, c := range lines {
		for _, k := range []string{"heic", "avif", "webp"} {
			fmt.Printf("%-14s %10.1f | %-5s %9.0f %9.0f %+9.0f | %9.0f %9.0f %+9.0f\n", c.Mode, c.Start, k,
				c.FirstCPU[k], c.SecondCPU[k], c.FirstCPU[k]-c.SecondCPU[k], c.FirstWall[k], c.SecondWall[k], c.FirstWall[k]-c.SecondWall[k])
		}
		if c.Mode == "shipped-cache" {
			summary = append(summary, [3]string{"first HEIC in a fresh process vs the second (CPU, shipped cache)",
				fmt.Sprintf("%+.0f ms", c.FirstCPU["heic"]-c.SecondCPU["heic"]), "target <= +150 ms"},
				[3]string{"process start to first answer", fmt.Sprintf("%.1f ms", c.Start), "target < 50 ms"})
		}
	}
	return nil
}

func printSummary() {
	if len(summary) == 0 {
		return
	}
	fmt.Printf("\nsummary (this run)\n| job | picbed / peer (CPU) | peer |\n|---|---|---|\n")
	for _, r := range summary {
		fmt.Printf("| %s | %s | %s |\n", r[0], r[1], r[2])
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchsum:", err)
	os.Exit(1)
}

// parseGo reads lines like
// BenchmarkStandard/p01-2  3  192741826 ns/op  158.0 cpu-ms/op  343473 out-B ...
func parseGo(path string) (map[string]map[string]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	jobs := map[string]map[string]row{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(fields[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		job, photo, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		var r row
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				r.wall = v / 1e6
			case "cpu-ms/op":
				r.cpu = v
			case "out-B":
				r.bytes = v
			case "psnr-dB":
				r.psnr = v
			case "ssim":
				r.ssim = v
			case "peak-MiB":
				r.peak = v
			case "job-cpu-ms":
				r.jobCPU = v
			case "job-wall-ms":
				r.jobWall = v
			case "allocs/op":
				r.allocs = v
			case "B/op":
				r.allocB = v
			}
		}
		if jobs[job] == nil {
			jobs[job] = map[string]row{}
		}
		jobs[job][photo] = r
	}
	return jobs, sc.Err()
}

func sortedKeys(m map[string]row) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func median(m map[string]row, f func(row) float64) float64 {
	var v []float64
	for _, r := range m {
		v = append(v, f(r))
	}
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func maxOf(m map[string]row, f func(row) float64) float64 {
	var x float64
	for _, r := range m {
		x = max(x, f(r))
	}
	return x
}

func printJob(name string, rows map[string]row) {
	fmt.Printf("%s job (per photo)\n", name)
	fmt.Printf("%-6s %9s %9s %10s %8s %7s %9s %8s\n", "photo", "cpu ms", "wall ms", "out bytes", "PSNR dB", "SSIM", "alloc MB", "allocs")
	line := func(name string, cpu, wall, bytes, psnr, ssim, allocMB, allocs float64) {
		q := fmt.Sprintf("%8.2f %7.4f", psnr, ssim)
		if psnr == 0 && ssim == 0 {
			q = fmt.Sprintf("%8s %7s", "-", "-") // not scored
		}
		fmt.Printf("%-6s %9.1f %9.1f %10.0f %s %9.1f %8.0f\n", name, cpu, wall, bytes, q, allocMB, allocs)
	}
	for _, k := range sortedKeys(rows) {
		r := rows[k]
		line(k, r.cpu, r.wall, r.bytes, r.psnr, r.ssim, r.allocB/1e6, r.allocs)
	}
	line("median", median(rows, func(r row) float64 { return r.cpu }), median(rows, func(r row) float64 { return r.wall }),
		median(rows, func(r row) float64 { return r.bytes }), median(rows, func(r row) float64 { return r.psnr }),
		median(rows, func(r row) float64 { return r.ssim }), median(rows, func(r row) float64 { return r.allocB / 1e6 }),
		median(rows, func(r row) float64 { return r.allocs }))
	fmt.Println()
}

// parsePeer reads the peer's JSON lines and scores its output images with
// the same metric as the Go benchmarks.
func parsePeer(path, outDir, photos string) (map[string]row, error) {
	type peer struct {
		File  string  `json:"file"`
		CPU   float64 `json:"cpu_ms"`
		Wall  float64 `json:"wall_ms"`
		Bytes float64 `json:"bytes"`
		Peak  float64 `json:"peak_mib"`
	}
	lines, err := jsonLines[peer](path)
	if err != nil {
		return nil, err
	}
	rows := map[string]row{}
	for _, p := range lines {
		name := strings.TrimSuffix(strings.TrimSuffix(p.File, ".jpg"), ".heic")
		r := row{cpu: p.CPU, wall: p.Wall, bytes: p.Bytes, peak: p.Peak}
		if outDir != "" {
			file := p.File
			if _, err := os.Stat(filepath.Join(outDir, file)); err != nil {
				file = name + ".webp"
			}
			s, err := score(filepath.Join(outDir, file), filepath.Join(photos, "ref", name+".png"))
			if err != nil {
				return nil, err
			}
			r.psnr, r.ssim = s.PSNR, s.SSIM
		}
		rows[name] = r
	}
	return rows, nil
}

// jsonLines reads a file of JSON lines (blank lines skipped), one T each.
func jsonLines[T any](path string) ([]T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func addPeerRSS(rows map[string]row, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var p struct {
			File   string  `json:"file"`
			PeakMi float64 `json:"peak_mib"`
		}
		if json.Unmarshal(line, &p) != nil {
			continue
		}
		name := strings.TrimSuffix(p.File, ".jpg")
		r := rows[name]
		r.peak = p.PeakMi
		rows[name] = r
	}
	return nil
}

func score(outPath, refPath string) (quality.Scores, error) {
	of, err := os.ReadFile(outPath)
	if err != nil {
		return quality.Scores{}, err
	}
	rf, err := os.ReadFile(refPath)
	if err != nil {
		return quality.Scores{}, err
	}
	out, format, err := image.Decode(bytes.NewReader(of))
	if err != nil {
		return quality.Scores{}, fmt.Errorf("%s: %v", outPath, err)
	}
	if format == "webp" {
		if c, ok := vp8.ToNRGBA(out); ok {
			out = c
		}
	}
	ref, err := png.Decode(bytes.NewReader(rf))
	if err != nil {
		return quality.Scores{}, fmt.Errorf("%s: %v", refPath, err)
	}
	b := ref.Bounds()
	return quality.Compare(out, ref, quality.WatermarkBox(b.Dx(), b.Dy()))
}

// compare prints picbed against the peer photo by photo, and the medians
// of the ratios picbed/peer.
func compare(title, peerName string, ours, rss, peer map[string]row) {
	fmt.Printf("\n%s: picbed vs %s (ratio = picbed / peer; lower is better for cpu, wall, bytes)\n", title, peerName)
	fmt.Printf("%-6s %8s %8s %6s | %8s %8s %6s | %9s %9s %6s | %7s %7s\n",
		"photo", "cpu ms", "peer", "ratio", "wall ms", "peer", "ratio", "bytes", "peer", "ratio", "SSIM", "peer")
	if len(ours) == 0 && len(peer) > 0 {
		fail(fmt.Errorf("%s: the peer has results but picbed has none (did the benchmarks find the photos? BENCH_PHOTOS)", title))
	}
	ratios := map[string]row{}
	for _, k := range sortedKeys(peer) {
		o, p := ours[k], peer[k]
		if o.cpu == 0 || p.cpu == 0 {
			continue
		}
		r := row{cpu: o.cpu / p.cpu, wall: o.wall / p.wall, bytes: o.bytes / p.bytes, ssim: o.ssim - p.ssim}
		ratios[k] = r
		fmt.Printf("%-6s %8.1f %8.1f %6.2f | %8.1f %8.1f %6.2f | %9.0f %9.0f %6.3f | %7.4f %7.4f\n",
			k, o.cpu, p.cpu, r.cpu, o.wall, p.wall, r.wall, o.bytes, p.bytes, r.bytes, o.ssim, p.ssim)
	}
	get := func(f func(row) float64) float64 { return median(ratios, f) }
	if len(ratios) > 0 {
		summary = append(summary, [3]string{fmt.Sprintf("%s, %d photos", title, len(ratios)),
			fmt.Sprintf("%.2fx", get(func(r row) float64 { return r.cpu })), peerName})
	}
	fmt.Printf("%-6s %8.1f %8.1f %6.2f | %8.1f %8.1f %6.2f | %9.0f %9.0f %6.3f | %7.4f %7.4f\n", "median",
		median(ours, func(r row) float64 { return r.cpu }), median(peer, func(r row) float64 { return r.cpu }), get(func(r row) float64 { return r.cpu }),
		median(ours, func(r row) float64 { return r.wall }), median(peer, func(r row) float64 { return r.wall }), get(func(r row) float64 { return r.wall }),
		median(ours, func(r row) float64 { return r.bytes }), median(peer, func(r row) float64 { return r.bytes }), get(func(r row) float64 { return r.bytes }),
		median(ours, func(r row) float64 { return r.ssim }), median(peer, func(r row) float64 { return r.ssim }))
	var pk []float64
	for _, r := range peer {
		if r.peak > 0 {
			pk = append(pk, r.peak)
		}
	}
	if len(pk) > 0 && len(rss) > 0 {
		sort.Float64s(pk)
		o := maxOf(rss, func(r row) float64 { return r.peak })
		fmt.Printf("peak RSS, one job in a fresh process (max over photos): picbed %.1f MiB, peer %.1f MiB, ratio %.2f\n",
			o, pk[len(pk)-1], o/pk[len(pk)-1])
	}
}
