package cms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Ghost writes back through the Admin API of one Ghost site, with the
// Admin API key of a custom integration.
type Ghost struct {
	api    *api
	keyID  string
	secret []byte
	now    func() time.Time
}

// ghostImageFields are the post fields whose whole value is an image URL.
var ghostImageFields = []string{"feature_image", "og_image", "twitter_image"}

// ghostID is Ghost's object id: 24 hex digits.
var ghostID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// NewGhost builds the connector for the site at base with an Admin API key
// "id:secret" (the secret in hex, as Ghost shows it).
func NewGhost(base, adminKey string) (*Ghost, error) {
	id, sec, ok := strings.Cut(strings.TrimSpace(adminKey), ":")
	secret, err := hex.DecodeString(sec)
	if !ok || id == "" || err != nil || len(secret) < 16 {
		return nil, errors.New("must be the Admin API key of a Ghost custom integration, 'id:secret' with the secret in hex")
	}
	g := &Ghost{keyID: id, secret: secret, now: time.Now}
	g.api, err = newAPI("Ghost", base, func(r *http.Request) error {
		r.Header.Set("Authorization", "Ghost "+g.token())
		r.Header.Set("Accept-Version", "v5.0")
		return nil
	})
	return g, err
}

// Name is the connector's name in job records.
func (g *Ghost) Name() string { return "ghost" }

// Origin is where the site (and its /content/images/) lives.
func (g *Ghost) Origin() string { return g.api.origin() }

// token is a fresh Admin API JWT: HS256, kid = key id, aud /admin/, five
// minutes, signed with the hex-decoded secret.
func (g *Ghost) token() string {
	enc := base64.RawURLEncoding
	hdr, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": g.keyID})
	iat := g.now().Unix()
	claims, _ := json.Marshal(map[string]any{"iat": iat, "exp": iat + 300, "aud": "/admin/"})
	signing := enc.EncodeToString(hdr) + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, g.secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// Target reads Ghost's webhook body, {"post"|"page": {"current": {...}}}:
// the id and the updated_at it announces. Anything else is not Ghost's.
func (g *Ghost) Target(_ http.Header, payload any) (Target, bool, error) {
	for _, kind := range []string{"post", "page"} {
		cur := obj(obj(payload, kind), "current")
		if cur == nil {
			continue
		}
		id := str(cur["id"])
		if !ghostID.MatchString(id) {
			return Target{}, true, badPayload("the Ghost webhook's %s.current.id %q is not a Ghost id", kind, trunc(id, 40))
		}
		return Target{CMS: "ghost", Kind: kind + "s", ID: id, Version: str(cur["updated_at"])}, true, nil
	}
	return Target{}, false, nil
}

// ghostPost is the part of a post picbed reads and writes.
type ghostPost struct {
	ID        string  `json:"id"`
	UpdatedAt string  `json:"updated_at"`
	Lexical   *string `json:"lexical"`
	Mobiledoc *string `json:"mobiledoc"`
	URL       string  `json:"url"`
	Fields    map[string]*string
}

// Run reads the post, rewrites its images and writes it back with the
// updated_at it read; a 409 UPDATE_COLLISION (someone saved in between)
// reads it again, up to maxAttempts times.
func (g *Ghost) Run(ctx context.Context, t Target, rw Rewriter) (Report, error) {
	if t.Kind != "posts" && t.Kind != "pages" || !ghostID.MatchString(t.ID) {
		return Report{}, badPayload("not a Ghost post or page id")
	}
	what := strings.TrimSuffix(t.Kind, "s") + " " + t.ID
	var rep Report
	for attempt := 0; attempt < maxAttempts; attempt++ {
		p, err := g.read(ctx, t)
		if err != nil {
			return rep, g.api.refused("reading "+what, err)
		}
		docs, names := ghostDocs(p)
		out, imgs := rw.Rewrite(ctx, docs, g.api.base.String()+"/")
		rep.Images = imgs
		if !changed(docs, out) {
			rep.Note = noChangeNote(imgs)
			return rep, nil
		}
		upd := map[string]any{"updated_at": p.UpdatedAt}
		for i, d := range docs {
			if out[i] != d.Text {
				upd[names[i]] = out[i]
			}
		}
		err = g.api.call(ctx, http.MethodPut, "/ghost/api/admin/"+t.Kind+"/"+t.ID+"/", map[string]any{t.Kind: []any{upd}}, nil)
		if statusOf(err) == http.StatusConflict {
			rep.Conflicts++
			continue
		}
		if err != nil {
			return rep, g.api.refused("writing "+what+" back", err)
		}
		rep.Written = true
		return rep, nil
	}
	return rep, conflict("Ghost's %s kept changing while picbed wrote it back (%d UPDATE_COLLISION answers); nothing was overwritten", what, rep.Conflicts)
}

func (g *Ghost) read(ctx context.Context, t Target) (ghostPost, error) {
	var raw map[string][]map[string]any
	path := "/ghost/api/admin/" + t.Kind + "/" + t.ID + "/?formats=" + url.QueryEscape("lexical,mobiledoc")
	if err := g.api.call(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return ghostPost{}, err
	}
	items := raw[t.Kind]
	if len(items) != 1 {
		return ghostPost{}, badAnswer("Ghost answered without the %s asked for", t.Kind)
	}
	m := items[0]
	p := ghostPost{ID: str(m["id"]), UpdatedAt: str(m["updated_at"]), URL: str(m["url"]), Fields: map[string]*string{}}
	opt := func(k string) *string {
		if s, ok := m[k].(string); ok {
			return &s
		}
		return nil
	}
	p.Lexical, p.Mobiledoc = opt("lexical"), opt("mobiledoc")
	for _, f := range ghostImageFields {
		p.Fields[f] = opt(f)
	}
	if p.UpdatedAt == "" {
		return ghostPost{}, badAnswer("Ghost answered a post without updated_at")
	}
	return p, nil
}

// ghostDocs lists the texts of a post that may hold images: its body
// (lexical, or mobiledoc for posts from before Ghost 5) and image fields.
func ghostDocs(p ghostPost) ([]Doc, []string) {
	var docs []Doc
	var names []string
	add := func(name string, s *string) {
		if s != nil && *s != "" {
			docs, names = append(docs, Doc{Field: name, Text: *s}), append(names, name)
		}
	}
	if p.Lexical != nil {
		add("lexical", p.Lexical)
	} else {
		add("mobiledoc", p.Mobiledoc)
	}
	for _, f := range ghostImageFields {
		add(f, p.Fields[f])
	}
	return docs, names
}

// noChangeNote says why a run wrote nothing.
func noChangeNote(imgs []Image) string {
	if len(imgs) == 0 {
		return "nothing to do: every image is already on picbed"
	}
	return "nothing written: no new image could be rehosted (see images for why)"
}
