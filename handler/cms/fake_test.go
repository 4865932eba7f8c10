package cms

import (
	"context"
	"regexp"
	"strings"
	"sync"
)

// fakeRewriter moves every http://origin.test/... URL to
// https://img.test/<n>: the contract of Rewriter (unchanged docs come back
// byte for byte, links already on img.test are not sources) without the
// extractor or a store. Sources listed in fail keep their link.
type fakeRewriter struct {
	mu    sync.Mutex
	calls int
	fail  map[string]bool
}

var fakeLink = regexp.MustCompile(`http://origin\.test/[A-Za-z0-9_./-]+`)

func (f *fakeRewriter) Rewrite(_ context.Context, docs []Doc, _ string) ([]string, []Image) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	out := make([]string, len(docs))
	var imgs []Image
	seen := map[string]bool{}
	for i, d := range docs {
		out[i] = fakeLink.ReplaceAllStringFunc(d.Text, func(src string) string {
			if !seen[src] {
				seen[src] = true
				if f.fail[src] {
					imgs = append(imgs, Image{Source: src, Code: "fetch_failed", Error: "refused"})
				} else {
					imgs = append(imgs, Image{Source: src, URL: rehosted(src)})
				}
			}
			if f.fail[src] {
				return src
			}
			return rehosted(src)
		})
	}
	return out, imgs
}

func rehosted(src string) string {
	return "https://img.test/" + strings.TrimPrefix(src, "http://origin.test/")
}
