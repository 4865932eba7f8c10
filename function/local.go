package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"picbed/function/config"
	"picbed/handler"
	"picbed/storage"
)

// runLocal serves the handler on cfg.Listen with a local-directory store
// until SIGINT/SIGTERM, then finishes in-flight requests and returns.
func runLocal(cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q", args[0])
	}
	store, where, err := newStore(cfg)
	if err != nil {
		return err
	}
	generated := "" // printed: picbed made it, nobody else can know it
	if len(cfg.Tokens) == 0 && !cfg.AllowAnonymous {
		tok, err := localToken(cfg.DataDir)
		if err != nil {
			return err
		}
		cfg.Tokens, generated = []string{tok}, tok
		cfg.TokenHint = "; the local server's token is in " + filepath.Join(cfg.DataDir, ".picbed-token") + " (printed at start)"
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler.New(cfg.Config, store, testOptions()...),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      3 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("picbed %s listening on %s (storage: %s)\n", handler.Version, base, where)
	// A token the operator set is never printed: terminals are recorded and
	// output is shipped to logs; whoever set it knows it.
	switch {
	case generated != "":
		fmt.Printf("upload token: %s\n", generated)
		fmt.Printf("try it:\n  curl -H 'Authorization: Bearer %s' -F file=@photo.jpg %s/upload\n", generated, base)
	case len(cfg.Tokens) > 0:
		fmt.Printf("upload token: the one set in PICBED_TOKENS (not shown)\n")
		fmt.Printf("try it:\n  curl -H \"Authorization: Bearer $TOKEN\" -F file=@photo.jpg %s/upload\n", base)
	}
	fmt.Printf("or open %s/ in a browser\n", base)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("picbed: shutting down, finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// newStore is the store cfg names: the OSS bucket (PICBED_STORAGE=oss;
// outside FC with the ALIBABA_CLOUD_* credentials) or the data directory.
// where names it for the operator.
func newStore(cfg config.Config) (store handler.Store, where string, err error) {
	if cfg.Storage == "oss" {
		oss, err := newOSSStore(cfg)
		if err != nil {
			return nil, "", err
		}
		return oss, "oss://" + cfg.OSSBucket + " at " + cfg.OSSEndpoint, nil
	}
	local, err := storage.NewLocal(cfg.DataDir)
	if err != nil {
		return nil, "", err
	}
	return local, local.Root(), nil
}

// localToken returns the token kept in the data directory, generating it on
// the first start, so clients configured once keep working after restarts.
func localToken(root string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(root, ".picbed-token")
	if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 18)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	if err := os.WriteFile(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}
