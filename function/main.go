// Command main is picbed's one binary. On Function Compute (FC_RUNTIME_API
// set) it serves FC invocations; `main process <file>...` stores local files
// with the upload recipe; anything else runs the local server.
// This is the only package that knows FC exists: wiring, no business rules.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"picbed/function/config"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "picbed: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	config.SetMemoryLimit(cfg)
	switch {
	case cfg.OnFC:
		err = runFC(cfg)
	case len(os.Args) > 1 && os.Args[1] == "process":
		err = runProcess(cfg, os.Args[2:])
	default:
		err = runLocal(cfg, os.Args[1:])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "picbed: %v\n", err)
		os.Exit(1)
	}
}
