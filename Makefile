# picbed — see README.md. Everything here needs only Go unless noted.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X picbed/handler.Version=$(VERSION)
GO ?= go

.PHONY: run test build package deploy bench fuzz clean

## run: the local server on 127.0.0.1:9000, storing into ./data
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./function

## test: every test, with short bounded fuzzing (what CI runs)
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

## build: the static linux/amd64 binary FC runs (dist/code/main)
build:
	mkdir -p dist/code
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/code/main ./function

## package: dist/picbed.zip with the executable bit kept
package: build
	cd dist/code && rm -f ../picbed.zip && $(GO) run ../../scripts/zipdir.go ../picbed.zip main

## bench: the pipeline benchmarks over real photos
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./imageproc/

clean:
	rm -rf dist
