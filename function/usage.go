package main

import (
	"fmt"
	"io"

	"picbed/handler"
)

// usage is `main help`: the commands and where configuration lives.
func usage(w io.Writer) {
	fmt.Fprintf(w, `picbed %s: an image host for bloggers (README.md explains everything)

Usage:
  main [serve]          the local server on PICBED_LISTEN (default 127.0.0.1:9000),
                        storing into PICBED_DATA_DIR (default ./data); on Function
                        Compute (FC_RUNTIME_API set) it serves FC invocations instead
  main process FILE...  store local files with the upload recipe, print their links
  main doctor           check the configuration and, with OSS credentials, the bucket,
                        its policy and the public links; prints OK/FAIL with the fix
  main help             this text (also -h, --help)
  main wasm-cache DIR   compile the HEIC/AVIF/WebP codecs into DIR (make build ships
                        it as wasmcache/ beside main: a cold instance skips compiling)

Configuration:
  Environment variables only, all named PICBED_* (README "Configuration" lists
  each with its default); a bad or unknown one stops the start with exit 2.
  Locally the generated upload token lives in <PICBED_DATA_DIR>/.picbed-token
  (./data/.picbed-token). On Function Compute the variables come from s.yaml and
  your shell at deploy time; put sha256:<hex> digests in PICBED_TOKENS there.
  OSS credentials outside FC: ALIBABA_CLOUD_ACCESS_KEY_ID,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS).
`, handler.Version)
}
