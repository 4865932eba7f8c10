package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"picbed/function/config"
	"picbed/handler"
)

// runProcess is `main process <file>...`: each local file goes through the
// same recipe and key template as uploads and OSS events, into the
// configured storage (./data, or OSS with PICBED_STORAGE=oss and the
// ALIBABA_CLOUD_* credentials), and its link is printed. Useful to migrate
// a folder of blog images. One bad file does not stop the others; the exit
// status says whether any failed.
func runProcess(cfg config.Config, files []string) error {
	if len(files) == 0 {
		return errors.New("usage: main process <file>... (or make process FILES='a.jpg b.png')")
	}
	store, _, err := newStore(cfg)
	if err != nil {
		return err
	}
	h := handler.New(cfg.Config, store)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed := 0
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			failed++
			continue
		}
		u, err := h.ProcessFile(ctx, f, data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, publicMessage(err))
			failed++
			continue
		}
		note := ""
		if u.Deduplicated {
			note = " (already stored)"
		}
		fmt.Printf("%s\t%s\t%s%s\n", f, u.URL, u.Markdown, note)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}

// publicMessage is the message picbed would answer a client with.
func publicMessage(err error) string {
	var e *handler.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
