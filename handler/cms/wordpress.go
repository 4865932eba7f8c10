package cms

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// WordPress writes back through the REST API of one WordPress site, as a
// user with an Application Password (Basic auth).
type WordPress struct {
	api *api
}

// NewWordPress builds the connector for the site at base.
func NewWordPress(base, user, appPassword string) (*WordPress, error) {
	if user == "" || appPassword == "" {
		return nil, fmt.Errorf("needs both PICBED_WP_USER and PICBED_WP_APP_PASSWORD")
	}
	a, err := newAPI("WordPress", base, func(r *http.Request) error {
		r.SetBasicAuth(user, appPassword)
		return nil
	})
	return &WordPress{api: a}, err
}

// Name is the connector's name in job records.
func (w *WordPress) Name() string { return "wordpress" }

// Origin is where the site (and its media under /wp-content/uploads/) lives.
func (w *WordPress) Origin() string { return w.api.origin() }

// Target reads the post id of a WordPress webhook: WP Webhooks' post_id
// or post.ID, or post.id (picbed's must-use plugin, README). A page is
// written through /pages when the payload says post_type page.
func (w *WordPress) Target(_ http.Header, payload any) (Target, bool, error) {
	top, _ := payload.(map[string]any)
	post := obj(payload, "post")
	if obj(post, "current") != nil {
		return Target{}, false, nil // Ghost's shape
	}
	var raw string
	switch {
	case top["post_id"] != nil:
		raw = str(top["post_id"])
	case post["ID"] != nil:
		raw = str(post["ID"])
	case post["id"] != nil:
		raw = str(post["id"])
	default:
		return Target{}, false, nil
	}
	id, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || id == 0 {
		return Target{}, true, badPayload("the WordPress post id %q is not a positive whole number", trunc(raw, 40))
	}
	kind := "posts"
	if pt := str(post["post_type"]) + str(top["post_type"]); pt == "page" {
		kind = "pages"
	}
	version := str(post["modified_gmt"])
	if version == "" {
		version = str(post["post_modified_gmt"])
	}
	return Target{CMS: "wordpress", Kind: kind, ID: strconv.FormatUint(id, 10), Version: version}, true, nil
}

// wpPost is the part of a post picbed reads (context=edit).
type wpPost struct {
	ID          int64  `json:"id"`
	ModifiedGMT string `json:"modified_gmt"`
	Link        string `json:"link"`
	Content     struct {
		Raw *string `json:"raw"`
	} `json:"content"`
}

// Run reads content.raw, rewrites its images and, only when something
// changed, writes it back. WordPress has no lock: just before the write
// picbed reads modified_gmt again, and an edit made in between sends it
// back to the start instead of being overwritten.
func (w *WordPress) Run(ctx context.Context, t Target, rw Rewriter) (Report, error) {
	if (t.Kind != "posts" && t.Kind != "pages") || t.ID == "" || strings.Trim(t.ID, "0123456789") != "" {
		return Report{}, badPayload("not a WordPress post id")
	}
	path := "/wp-json/wp/v2/" + t.Kind + "/" + t.ID
	what := strings.TrimSuffix(t.Kind, "s") + " " + t.ID
	var rep Report
	for attempt := 0; attempt < maxAttempts; attempt++ {
		p, err := w.read(ctx, path, what)
		if err != nil {
			return rep, err
		}
		docs := []Doc{{Field: "html", Text: *p.Content.Raw}}
		out, imgs := rw.Rewrite(ctx, docs, w.api.base.String()+"/")
		rep.Images = imgs
		if !changed(docs, out) {
			rep.Note = noChangeNote(imgs)
			return rep, nil
		}
		again, err := w.read(ctx, path, what)
		if err != nil {
			return rep, err
		}
		if again.ModifiedGMT != p.ModifiedGMT || *again.Content.Raw != *p.Content.Raw {
			rep.Conflicts++
			continue
		}
		if err := w.api.call(ctx, http.MethodPost, path, map[string]string{"content": out[0]}, nil); err != nil {
			return rep, w.api.refused("writing "+what+" back", err)
		}
		rep.Written = true
		return rep, nil
	}
	return rep, conflict("WordPress %s kept changing while picbed wrote it back (%d times); nothing was overwritten", what, rep.Conflicts)
}

func (w *WordPress) read(ctx context.Context, path, what string) (wpPost, error) {
	var p wpPost
	if err := w.api.call(ctx, http.MethodGet, path+"?context=edit", nil, &p); err != nil {
		return p, w.api.refused("reading "+what, err)
	}
	if p.Content.Raw == nil {
		return p, &Error{Status: http.StatusBadGateway, Code: "cms_refused",
			Message: "WordPress answered " + what + " without content.raw: the user PICBED_WP_USER cannot edit it (needs the Editor role, or Author of its own posts)"}
	}
	return p, nil
}
