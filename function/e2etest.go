//go:build e2etest

package main

import (
	"os"
	"strings"

	"picbed/handler"
	"picbed/handler/fetch"
)

// testOptions, in the e2etest build only (make e2e-cms), let the fetcher
// reach the test origins E2ETEST_ALLOW_ORIGINS names (a loopback server
// standing in for the remote web). No release build reads that variable.
func testOptions() []handler.Option {
	var origins []string
	for _, o := range strings.Split(os.Getenv("E2ETEST_ALLOW_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		return nil
	}
	return []handler.Option{handler.WithFetchOptions(fetch.Options{AllowOrigins: origins})}
}
