// Command setup is what `make deploy` runs around `s deploy`:
//
//	go run ./deploy/setup          # before: check the exports, set up bucket and RAM roles
//	go run ./deploy/setup smoke F  # after: upload a 1x1 PNG through the function, open the link
//
// Every step is idempotent: it reads first and changes only what differs,
// saying what it did. Credentials: ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), else
// the ones `s config add` stored (alias PICBED_S_ACCESS, default "default").
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"picbed/deploy"
)

// env is what setup reads: the exports of README step 1 plus the
// endpoint overrides tests use.
type env struct {
	region, bucket, tokens, publicURL, inboxAfter string
	domain, cert, certKey                         string
	domainHTTP                                    bool
	ossEndpoint, ramEndpoint                      string // "" = Alibaba Cloud's
}

func readEnv(getenv func(string) string) env {
	e := env{
		region:      getenv("PICBED_REGION"),
		bucket:      getenv("PICBED_OSS_BUCKET"),
		tokens:      getenv("PICBED_TOKENS"),
		publicURL:   getenv("PICBED_PUBLIC_URL"),
		inboxAfter:  getenv("PICBED_INBOX_AFTER"),
		domain:      getenv("PICBED_DOMAIN"),
		cert:        getenv("PICBED_CERT"),
		certKey:     getenv("PICBED_CERT_KEY"),
		domainHTTP:  getenv("PICBED_DOMAIN_HTTP") == "1",
		ossEndpoint: getenv("PICBED_SETUP_OSS_ENDPOINT"),
		ramEndpoint: getenv("PICBED_SETUP_RAM_ENDPOINT"),
	}
	if e.region == "" {
		e.region = "cn-hangzhou" // s.yaml's default
	}
	return e
}

// preflight names every export that would make the deploy fail or give a
// link that does not open, before anything is changed.
func (e env) preflight() error {
	var errs []error
	if e.bucket == "" {
		errs = append(errs, errors.New("PICBED_OSS_BUCKET is not set: export PICBED_OSS_BUCKET=<a globally unique bucket name>"))
	}
	switch {
	case e.tokens == "":
		errs = append(errs, errors.New("PICBED_TOKENS is not set: see README step 1 (export PICBED_TOKENS=sha256:<digest of your token>)"))
	case !strings.HasPrefix(e.tokens, "sha256:"):
		errs = append(errs, errors.New("PICBED_TOKENS holds a token in clear: s prints it and keeps it in ~/.s/logs; export its digest instead: PICBED_TOKENS=sha256:$(printf %s \"$PICBED_TOKEN\" | sha256sum | cut -d' ' -f1)"))
	}
	public := e.publicURL
	if public == "" && e.bucket != "" {
		public = "https://" + e.bucket + ".oss-" + e.region + ".aliyuncs.com"
	}
	if deploy.MainlandDefaultDomain(public) {
		errs = append(errs, fmt.Errorf("PICBED_PUBLIC_URL is %s, a default bucket domain in the Chinese mainland: OSS refuses reads through it (PublicEndpointForbidden) for accounts created since 2025-03-20. Fix: %s", public, deploy.MainlandFix))
	}
	if e.domain != "" && !e.domainHTTP && (e.cert == "" || e.certKey == "") {
		errs = append(errs, fmt.Errorf("PICBED_DOMAIN=%s is served over HTTPS: export PICBED_CERT and PICBED_CERT_KEY (the certificate chain and its key: PEM files, PEM text or https:// URLs), or PICBED_DOMAIN_HTTP=1 for plain HTTP (tokens then cross the network in clear)", e.domain))
	}
	if e.inboxAfter != "" && e.inboxAfter != "keep" && e.inboxAfter != "delete" {
		errs = append(errs, fmt.Errorf("PICBED_INBOX_AFTER=%q: use keep or delete", e.inboxAfter))
	}
	return errors.Join(errs...)
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	switch args := os.Args[1:]; {
	case len(args) == 0:
		err = setup(ctx, os.Getenv, os.Stdout)
	case args[0] == "smoke" && len(args) == 2:
		err = smoke(ctx, os.Getenv, args[1], os.Stdout)
	default:
		err = errors.New("usage: go run ./deploy/setup [smoke <s-info.json>]")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "setup: %v\n", err)
		os.Exit(1)
	}
}

func setup(ctx context.Context, getenv func(string) string, out io.Writer) error {
	e := readEnv(getenv)
	if err := e.preflight(); err != nil {
		return fmt.Errorf("fix these exports first:\n%w", err)
	}
	cred, err := deploy.LoadCredentials(getenv)
	if err != nil {
		return err
	}
	oss := deploy.NewOSSClient(e.region, e.ossEndpoint, cred)
	if err := deploy.SetupBucket(ctx, oss, e.bucket, "img/", out); err != nil {
		return err
	}
	ram, err := newRAM(cred, e.ramEndpoint)
	if err != nil {
		return err
	}
	return setupRoles(ram, e.bucket, e.inboxAfter == "delete", out)
}

// smoke runs after `s deploy`: the upload through the function and the
// link, plus the deployed trigger's prefix, from `s picbed info -o json`.
func smoke(ctx context.Context, getenv func(string) string, infoFile string, out io.Writer) error {
	b, err := os.ReadFile(infoFile)
	if err != nil {
		return err
	}
	info, err := deploy.ParseFCInfo(b)
	if err != nil {
		return fmt.Errorf("%s: %w", infoFile, err)
	}
	r := &deploy.Report{W: out}
	inbox := getenv("PICBED_INBOX_PREFIX")
	if inbox == "" {
		inbox = "inbox/"
	}
	deploy.CheckFunction(ctx, info, inbox, getenv, r)
	if r.Fails > 0 {
		return fmt.Errorf("%d check(s) failed after the deploy; fix them and run make deploy again (every step is idempotent)", r.Fails)
	}
	return nil
}
