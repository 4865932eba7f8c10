// Command main is picbed's one binary. On Function Compute (FC_RUNTIME_API
// set) it serves FC invocations; `main process <file>...` stores local files
// with the upload recipe; `main doctor` checks the setup; `main help` says
// so; anything else runs the local server.
// This is the only package that knows FC exists: wiring, no business rules.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"picbed/function/config"
	"picbed/imageproc"
)

// prepareCodecs loads (or, without a shipped cache, compiles) the
// HEIC/AVIF/WebP WebAssembly codecs while the process waits for its first
// request; a request that needs one meanwhile waits for the same work.
func prepareCodecs() {
	if err := imageproc.PrepareCodecs(); err != nil {
		slog.Warn("codec warm-up", "error", err.Error())
	}
}

func main() {
	cmd, args := "serve", os.Args[1:]
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
		return
	case "doctor":
		os.Exit(runDoctor(os.Environ(), args, os.Stdout))
	case "wasm-cache": // make build: the compiled codecs shipped in the zip
		if len(args) != 1 {
			fmt.Fprintln(os.Stderr, "usage: main wasm-cache DIR")
			os.Exit(2)
		}
		if err := imageproc.FillCodecCache(args[0]); err != nil {
			fmt.Fprintf(os.Stderr, "picbed: wasm-cache: %v\n", err)
			os.Exit(1)
		}
		return
	case "serve", "process":
	default:
		fmt.Fprintf(os.Stderr, "picbed: unknown command %q\n\n", cmd)
		usage(os.Stderr)
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	go prepareCodecs()
	cfg, err := config.LoadEnviron(os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "picbed: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	config.SetMemoryLimit(cfg)
	switch {
	case cfg.OnFC:
		err = runFC(cfg)
	case cmd == "process":
		err = runProcess(cfg, args)
	default:
		err = runLocal(cfg, args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "picbed: %v\n", err)
		os.Exit(1)
	}
}
