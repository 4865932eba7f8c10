package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"picbed/deploy"
	"picbed/function/config"
	"picbed/handler/webhooksig"
)

// runDoctor is `main doctor [-fc-info FILE]`: the configuration, then the
// local setup (storage local) or, with credentials, the cloud side
// (storage oss): bucket, policy, public links, inbox, and with the output
// of `s picbed info -o json` the deployed trigger and an upload through
// the function. One line per check, OK or FAIL with the fix; the exit
// status is 1 when anything failed.
func runDoctor(environ []string, args []string, out io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(out)
	fcInfo := fs.String("fc-info", "", "the output of `s picbed info -o json`, to check the deployed trigger and upload through the function")
	if err := fs.Parse(args); err == flag.ErrHelp {
		return 0
	} else if err != nil {
		return 2
	}
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	r := &deploy.Report{W: out}

	// After `s config add`, the keys s stored serve the cloud checks too.
	if vars["PICBED_STORAGE"] == "oss" && vars["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "" {
		if c, err := deploy.LoadCredentials(getenv); err == nil {
			vars["ALIBABA_CLOUD_ACCESS_KEY_ID"], vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], vars["ALIBABA_CLOUD_SECURITY_TOKEN"] = c.ID, c.Secret, c.Token
			environ = append(environ, "ALIBABA_CLOUD_ACCESS_KEY_ID="+c.ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+c.Secret, "ALIBABA_CLOUD_SECURITY_TOKEN="+c.Token)
		}
	}
	cfg, err := config.LoadEnviron(environ)
	if err != nil {
		for _, e := range flatten(err) {
			name, msg, _ := strings.Cut(e.Error(), ": ")
			r.Fail("config", e.Error(), "fix "+name+": "+msg)
		}
	} else {
		n := 0
		for k := range vars {
			if strings.HasPrefix(k, "PICBED_") {
				n++
			}
		}
		r.OK("config", fmt.Sprintf("%d PICBED_* variables set, all valid; storage %s, links under %s", n, cfg.Storage, cfg.PublicURL))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if cfg.Storage == "oss" {
		doctorCloud(ctx, cfg, err == nil, getenv, *fcInfo, r)
	} else {
		doctorLocal(cfg, vars, r)
	}
	if r.Fails > 0 {
		fmt.Fprintf(out, "%d check(s) failed\n", r.Fails)
		return 1
	}
	return 0
}

// flatten lists the leaves of joined errors, one per bad variable.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// doctorLocal checks what `make run` needs: a writable data directory, a
// token, a free (or picbed's own) listen address.
func doctorLocal(cfg config.Config, vars map[string]string, r *deploy.Report) {
	probe := filepath.Join(cfg.DataDir, ".picbed-doctor")
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		r.Fail("data dir", err.Error(), "set PICBED_DATA_DIR to a folder you can write")
	} else if err := os.WriteFile(probe, nil, 0o600); err != nil {
		r.Fail("data dir", err.Error(), "set PICBED_DATA_DIR to a folder you can write")
	} else {
		os.Remove(probe)
		abs, _ := filepath.Abs(cfg.DataDir)
		r.OK("data dir", abs+" is writable; images are stored there")
	}
	tokenFile := filepath.Join(cfg.DataDir, ".picbed-token")
	switch {
	case len(cfg.Tokens) > 0:
		digests := 0
		for _, t := range cfg.Tokens {
			if strings.HasPrefix(t, webhooksig.DigestPrefix) {
				digests++
			}
		}
		r.OK("token", fmt.Sprintf("%d upload token(s) from PICBED_TOKENS (%d as sha256: digests)", len(cfg.Tokens), digests))
	case cfg.AllowAnonymous:
		r.OK("token", "none: PICBED_ALLOW_ANONYMOUS=true lets anyone upload")
	default:
		if _, err := os.Stat(tokenFile); err == nil {
			r.OK("token", "the local token is in "+tokenFile)
		} else {
			r.OK("token", "make run generates one and keeps it in "+tokenFile)
		}
	}
	if ln, err := net.Listen("tcp", cfg.Listen); err == nil {
		ln.Close()
		r.OK("listen", cfg.Listen+" is free: make run serves http://"+cfg.Listen+"/")
	} else if running(cfg.Listen) {
		r.OK("listen", "picbed already answers on http://"+cfg.Listen+"/")
	} else {
		r.Fail("listen", err.Error(), "another program uses "+cfg.Listen+": set PICBED_LISTEN to another address, e.g. 127.0.0.1:9001")
	}
	r.Skip("cloud", "PICBED_STORAGE=local: nothing in the cloud to check (to check a deployment: PICBED_STORAGE=oss with the deploy's exports, see README)")
}

func running(addr string) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"ok"`)
}

// doctorCloud checks the deployment: the public URL, then with credentials
// the bucket side, then with `s info` output the function side.
func doctorCloud(ctx context.Context, cfg config.Config, configOK bool, getenv func(string) string, fcInfo string, r *deploy.Report) {
	if deploy.MainlandDefaultDomain(cfg.PublicURL) {
		r.Fail("public url", cfg.PublicURL+" is a mainland default bucket domain: OSS refuses reads through it (PublicEndpointForbidden) for accounts created since 2025-03-20", deploy.MainlandFix)
	} else if cfg.PublicURL != "" {
		r.OK("public url", cfg.PublicURL+" is not a mainland default bucket domain")
	}
	cred := deploy.Credentials{ID: getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), Secret: getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"), Token: getenv("ALIBABA_CLOUD_SECURITY_TOKEN")}
	if !configOK || cred.ID == "" || cfg.OSSBucket == "" {
		r.Skip("bucket", "needs a valid configuration and credentials (s config add, or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET)")
		return
	}
	c := deploy.Cloud{
		OSS: deploy.NewOSSClient(cfg.OSSRegion, cfg.OSSEndpoint, cred), HTTP: deploy.HTTPClient,
		Bucket: cfg.OSSBucket, PublicURL: cfg.PublicURL, PublicPrefix: cfg.KeyTemplate.Prefix(), InboxPrefix: cfg.InboxPrefix,
	}
	c.Check(ctx, r)
	if fcInfo == "" {
		r.Skip("function", "run `s picbed info -o json --silent > dist/s-info.json` and doctor -fc-info dist/s-info.json (make doctor does) to check the trigger and an upload")
		return
	}
	b, err := os.ReadFile(fcInfo)
	var info deploy.FCInfo
	if err == nil {
		info, err = deploy.ParseFCInfo(b)
	}
	if err != nil {
		r.Fail("function", fcInfo+": "+err.Error(), "s picbed info -o json --silent > "+fcInfo)
		return
	}
	deploy.CheckFunction(ctx, info, cfg.InboxPrefix, getenv, r)
}
