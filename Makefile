# picbed — see README.md. Everything here needs only Go unless noted.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X picbed/handler.Version=$(VERSION)
GO ?= go
# nodynamic: the HEIC/AVIF/WebP codecs use their pure wasm builds and never look
# for system libraries, so tests, the local server and FC run the same code.
TAGS ?= nodynamic

.PHONY: help run test race e2e e2e-cms build package setup deploy doctor process bench bench-peers fuzz abuse load clean

# A bare `make` builds, as `make` does in the Go projects around us
# (Kubernetes, Prometheus, Helm, MinIO, Gitea: `all`/`build` first); it
# neither starts a server nor only prints help. `make help` lists the targets.
.DEFAULT_GOAL := build

## help: this list: every target with the `##` comment above it
help:
	@awk '/^## / { d = d (d == "" ? "" : "\n") substr($$0, 4); next } \
		/^[a-zA-Z0-9_-]+:/ && d != "" { t = substr($$0, 1, index($$0, ":") - 1); sub("^" t ": ", "", d); \
			n = split(d, l, "\n"); printf "  make %-12s %s\n", t, l[1]; for (i = 2; i <= n; i++) printf "  %-17s %s\n", "", l[i] } \
		/^$$/ || /^[a-zA-Z0-9_-]+:/ { d = "" }' $(MAKEFILE_LIST)

## run: the local server on 127.0.0.1:9000, storing into ./data
run:
	$(GO) run -tags $(TAGS) -ldflags "$(LDFLAGS)" ./function

## test: go vet and every test; fuzz targets run on their seed corpus; then
## the race detector over the packages that start goroutines (what CI runs)
test:
	$(GO) vet -tags $(TAGS) ./...
	$(GO) test -tags $(TAGS) -count=1 -timeout 15m ./...
	$(MAKE) race

## race: the race detector over the packages that start goroutines
# -race needs cgo (gcc), for this run only; the binaries stay
# CGO_ENABLED=0. -short leaves out the big fixtures (100,000-key listings),
# RACE_SKIP the tests that measure memory (the detector changes it) or
# repeat a concurrent path another test already takes.
RACE_PKGS ?= ./handler/... ./function/... ./storage/... ./imageproc/internal/workers ./imageproc/internal/resample ./imageproc/internal/jpegx
RACE_SKIP ?= TestUnauthenticatedBodiesHoldLittle|TestMemoryStaysSmall|TestMatchesXDraw|TestEncodeRoundTrip
race:
	CGO_ENABLED=1 $(GO) test -race -short -tags $(TAGS) -count=1 -timeout 15m -skip '$(RACE_SKIP)' $(RACE_PKGS)

## e2e: the upload page in headless Chromium against the real local server
## (installs Debian chromium as root if missing, and playwright-core via npm)
e2e:
	bash e2e/run.sh

## e2e-cms: the real binary against real Ghost 5.130, WordPress 6.1 and Gitea
## 1.26 brought up by ../shared/cms (first run ~10 min; needs root): publish a
## post with a CMS-hosted and a remote image, wait for the write-back, open
## the links, check no loop. Not part of .ci/run.
e2e-cms:
	bash e2e/cms/run.sh

## build: the static linux/amd64 binary FC runs (dist/code/main)
# -tags nodynamic: the HEIC/AVIF/WebP codecs would otherwise link libdl
# (purego) to look for system libraries; FC gets their pure wasm builds.
build:
	mkdir -p dist/code
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o dist/code/main ./function
	rm -rf dist/code/wasmcache
	@# the HEIC/AVIF/WebP codecs compiled to machine code once, shipped in the zip:
	@# a cold FC instance loads them in milliseconds instead of compiling (~0.6 s CPU)
	@if [ "$$($(GO) env GOHOSTOS)/$$($(GO) env GOHOSTARCH)" = linux/amd64 ]; then dist/code/main wasm-cache dist/code/wasmcache && chmod -R a+rX dist/code/wasmcache; \
		else echo "build: not on linux/amd64, so no compiled codec cache is shipped (each new FC instance compiles the codecs once)"; fi

## package: dist/picbed.zip with the executable bit kept (pure Go zip)
package: build
	$(GO) run ./scripts/zipdir -C dist/code -o dist/picbed.zip main $$(cd dist/code && find wasmcache -type f 2>/dev/null)

## setup: what deploy runs first: check the exports, then create or fix the
## bucket (private, img/ public-read by policy) and the two RAM roles
setup:
	$(GO) run -tags $(TAGS) ./deploy/setup

# S_INFO: where make deploy keeps `s picbed info` for the smoke test and
# make doctor (tests point it at a temporary file).
S_INFO ?= dist/s-info.json

## deploy: build, setup, s deploy (the domain too when PICBED_DOMAIN is set),
## then a smoke test: a 1x1 PNG through the function, its link opened
deploy: build
	@command -v s >/dev/null || { echo "Serverless Devs is not installed: npm install -g @serverless-devs/s, then s config add (see README, Deploy to Function Compute)"; exit 1; }
	$(GO) run -tags $(TAGS) ./deploy/setup
	s picbed deploy -y
	@if [ -n "$$PICBED_DOMAIN" ] && [ "$$PICBED_DOMAIN_HTTP" = 1 ]; then s deploy -y -t deploy/s.http.yaml; \
	elif [ -n "$$PICBED_DOMAIN" ]; then s domain deploy -y; fi
	mkdir -p $(dir $(S_INFO))
	s picbed info -o json --silent > $(S_INFO)
	$(GO) run -tags $(TAGS) ./deploy/setup smoke $(S_INFO)

## doctor: check the configuration and the local setup; with the deploy's
## exports (PICBED_OSS_BUCKET set) the bucket, links, trigger and an upload
doctor:
	@if [ -n "$$PICBED_OSS_BUCKET" ] && [ -z "$$PICBED_STORAGE" ]; then \
		export PICBED_STORAGE=oss PICBED_OSS_REGION=$${PICBED_OSS_REGION:-$${PICBED_REGION:-cn-hangzhou}}; \
		[ -f $(S_INFO) ] || { command -v s >/dev/null && mkdir -p $(dir $(S_INFO)) && s picbed info -o json --silent > $(S_INFO) 2>/dev/null || rm -f $(S_INFO); }; \
		$(GO) run -tags $(TAGS) ./function doctor $$( [ -f $(S_INFO) ] && echo -fc-info $(S_INFO) ); \
	else $(GO) run -tags $(TAGS) ./function doctor; fi

## process: store local files with the upload recipe, printing links (make process FILES='a.jpg b.png')
process:
	@test -n "$(FILES)" || { echo "usage: make process FILES='photo.jpg other.png'"; exit 2; }
	$(GO) run -tags $(TAGS) -ldflags "$(LDFLAGS)" ./function process $(FILES)

## bench: the pipeline benchmarks over the real photo set (made once by
## scripts/make-photos.sh into bench/photos), then a summary table
BENCH_PHOTOS ?= bench/photos
BENCHTIME ?= 3x
bench: $(BENCH_PHOTOS)/logo.png
	mkdir -p bench/out
	BENCH_PHOTOS=$(abspath $(BENCH_PHOTOS)) $(GO) test -tags $(TAGS) -run '^$$' -bench '^Benchmark(Standard|Plain|WebP|Light|LightReencode|PeakRSS|HEIC|HEIC48PeakRSS)$$' -benchtime $(BENCHTIME) -benchmem -timeout 30m ./imageproc/ > bench/out/picbed.txt; \
		s=$$?; cat bench/out/picbed.txt; exit $$s
	$(GO) run -tags $(TAGS) ./imageproc/internal/benchsum -go bench/out/picbed.txt

$(BENCH_PHOTOS)/logo.png:
	OUT=$(abspath $(BENCH_PHOTOS)) scripts/make-photos.sh

## fuzz: each fuzz target (sniff, lossless strip, Process, container headers, jpegx, extractor) for
## FUZZTIME; see scripts/fuzz.sh
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) TAGS=$(TAGS) scripts/fuzz.sh

## bench-peers: every row of the performance table against its peer in one run:
## standard, plain and WebP jobs against sharp (libvips, npm into bench/.cache),
## 12 MP / 48 MP HEIC against vipsthumbnail (Debian libvips-tools), cold start
## through the real binary (tools/coldstart); then the ratios
SHARP_VERSION ?= 0.34.5
bench-peers: $(BENCH_PHOTOS)/logo.png bench/.cache/node_modules/sharp/package.json
	mkdir -p bench/out
	node bench/peers/sharp.mjs bench/.cache $(BENCH_PHOTOS) bench/out/sharp 3 > bench/out/sharp.jsonl
	FORMAT=webp node bench/peers/sharp.mjs bench/.cache $(BENCH_PHOTOS) bench/out/sharp-webp 1 > bench/out/sharp-webp.jsonl
	JOB=plain node bench/peers/sharp.mjs bench/.cache $(BENCH_PHOTOS) bench/out/sharp-plain 3 > bench/out/sharp-plain.jsonl
	for f in $(BENCH_PHOTOS)/std/*.jpg; do node bench/peers/sharp.mjs bench/.cache $(BENCH_PHOTOS) - 1 one $$f; done > bench/out/sharp-rss.jsonl
	@command -v vipsthumbnail >/dev/null || { echo "bench-peers: vipsthumbnail is missing (apt-get install libvips-tools)"; exit 1; }
	python3 bench/peers/vipsthumbnail.py bench/out/vips 3 $(BENCH_PHOTOS)/heic/h0*.heic > bench/out/vips-heic.jsonl
	python3 bench/peers/vipsthumbnail.py bench/out/vips 1 $(BENCH_PHOTOS)/heic/h48.heic > bench/out/vips-heic48.jsonl
	$(GO) run -tags $(TAGS) ./tools/coldstart -runs 3 > bench/out/cold.jsonl
	BENCH_PHOTOS=$(abspath $(BENCH_PHOTOS)) $(GO) test -tags $(TAGS) -run '^$$' -bench '^Benchmark(Standard|Plain|PeakRSS|HEIC|HEIC48PeakRSS)$$' -benchtime $(BENCHTIME) -benchmem -timeout 30m ./imageproc/ > bench/out/picbed.txt; \
		s=$$?; cat bench/out/picbed.txt; exit $$s
	BENCH_PHOTOS=$(abspath $(BENCH_PHOTOS)) $(GO) test -tags $(TAGS) -run '^$$' -bench '^BenchmarkWebP$$' -benchtime 1x -benchmem -timeout 30m ./imageproc/ > bench/out/picbed-webp.txt; \
		s=$$?; cat bench/out/picbed-webp.txt; cat bench/out/picbed-webp.txt >> bench/out/picbed.txt; exit $$s
	$(GO) run -tags $(TAGS) ./imageproc/internal/benchsum -go bench/out/picbed.txt -photos $(BENCH_PHOTOS) \
		-peer bench/out/sharp.jsonl -peer-out bench/out/sharp -peer-rss bench/out/sharp-rss.jsonl \
		-peer-webp bench/out/sharp-webp.jsonl -peer-webp-out bench/out/sharp-webp \
		-peer-plain bench/out/sharp-plain.jsonl -peer-plain-out bench/out/sharp-plain \
		-peer-heic bench/out/vips-heic.jsonl -peer-heic48 bench/out/vips-heic48.jsonl -cold bench/out/cold.jsonl | tee bench/out/peers.txt

bench/.cache/node_modules/sharp/package.json:
	mkdir -p bench/.cache
	cd bench/.cache && { [ -f package.json ] || echo '{"private": true}' > package.json; } && \
		npm install --no-audit --no-fund --no-save sharp@$(SHARP_VERSION)

## abuse: the bad-input suite (tools/hostile) against a freshly built local
## server: status, JSON error, no object written, /healthz afterwards
abuse:
	$(GO) run -tags $(TAGS) ./tools/abuse

## load: LOAD_CLIENTS clients upload 12 MP photos for LOAD_DURATION against a
## local server (PICBED_MAX_WIDTH=1920); throughput, latency, statuses, peak RSS
LOAD_CLIENTS ?= 8
LOAD_DURATION ?= 60s
LOAD_MEMORY_MB ?= 1024
load:
	$(GO) run -tags $(TAGS) ./tools/load -clients $(LOAD_CLIENTS) -duration $(LOAD_DURATION) -memory-mb $(LOAD_MEMORY_MB) -photos $(BENCH_PHOTOS)/std

## clean: remove dist/ (the built binary and zip)
clean:
	rm -rf dist
