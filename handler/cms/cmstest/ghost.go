// Package cmstest is a fake Ghost for tests: an httptest server that speaks
// the part of Ghost 5's Admin API picbed's write-back uses and checks
// requests the way Ghost does (seen on the wire against Ghost 5.130, see
// ../shared/cms): the Admin API JWT (HS256 with the hex-decoded secret of
// a known key id, aud /admin/, at most 5 minutes, not expired), the
// Accept-Version header, and updated_at on PUT — a stale one is
// 409 UPDATE_COLLISION, with updated_at at Ghost's one-second resolution.
// It also serves the site's own images under /content/images/.
package cmstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Ghost is the fake site. Its zero value is not usable: call NewGhost.
type Ghost struct {
	*httptest.Server
	KeyID  string // the integration's Admin API key id
	Secret string // its secret, hex

	mu        sync.Mutex
	posts     map[string]map[string]any
	clock     int
	puts      int
	images    map[string][]byte
	beforePut func(g *Ghost, id string)
	status    int
}

// NewGhost starts a fake site; Close it when done.
func NewGhost() *Ghost {
	g := &Ghost{KeyID: "6650a1b2c3d4e5f6a7b8c9d0", Secret: strings.Repeat("5f0c3d1e", 8),
		posts: map[string]map[string]any{}, images: map[string][]byte{}}
	g.Server = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// AdminKey is the key picbed is configured with, "id:secret".
func (g *Ghost) AdminKey() string { return g.KeyID + ":" + g.Secret }

// AddPost stores a post (fields as the Admin API answers them; id and
// updated_at are set here).
func (g *Ghost) AddPost(id string, fields map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := map[string]any{"id": id, "lexical": nil, "mobiledoc": nil, "feature_image": nil, "og_image": nil, "twitter_image": nil}
	for k, v := range fields {
		p[k] = v
	}
	g.posts[id] = p
	g.touch(id)
}

// Edit changes one field of a post as a person saving it would.
func (g *Ghost) Edit(id, field string, value any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.posts[id][field] = value
	g.touch(id)
}

// EditLocked is Edit for use inside a BeforePut hook (the lock is held).
func (g *Ghost) EditLocked(id, field string, value any) {
	g.posts[id][field] = value
	g.touch(id)
}

func (g *Ghost) touch(id string) {
	g.clock++
	g.posts[id]["updated_at"] = time.Date(2026, 1, 1, 0, 0, g.clock, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
}

// Post is a copy of a stored post.
func (g *Ghost) Post(id string) map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]any{}
	for k, v := range g.posts[id] {
		out[k] = v
	}
	return out
}

// Puts counts the accepted writes.
func (g *Ghost) Puts() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.puts
}

// AddImage serves b at /content/images/<name> and returns its URL.
func (g *Ghost) AddImage(name string, b []byte) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.images["/content/images/"+name] = b
	return g.URL + "/content/images/" + name
}

// BeforePut runs fn (with the lock held: use EditLocked) once, before the
// next PUT is judged: someone saving between picbed's read and write. fn
// may call BeforePut again to keep doing it.
func (g *Ghost) BeforePut(fn func(g *Ghost, id string)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.beforePut = fn
}

// BeforePutLocked is BeforePut from inside a hook.
func (g *Ghost) BeforePutLocked(fn func(g *Ghost, id string)) { g.beforePut = fn }

// FailWith makes every authenticated API request answer status (0: stop).
func (g *Ghost) FailWith(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status = status
}

// checkJWT is Ghost's admin API key authentication.
func (g *Ghost) checkJWT(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Ghost ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return "Authorization header format is \"Authorization: Ghost [token]\""
	}
	var hdr, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return "Invalid JSON Web Token"
	}
	if hdr["alg"] != "HS256" || hdr["kid"] != g.KeyID {
		return "Unknown Admin API Key"
	}
	key, _ := hex.DecodeString(g.Secret)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "Invalid token: invalid signature"
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if claims["aud"] != "/admin/" {
		return "Invalid token: jwt audience invalid"
	}
	if exp-iat > 300 || exp < float64(time.Now().Unix()) {
		return "Invalid token: jwt expired or valid for more than 5 minutes"
	}
	if r.Header.Get("Accept-Version") == "" {
		return "Accept-Version header missing"
	}
	return ""
}

func ghostError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"message":%q,"type":%q,"code":%q}]}`, msg, typ, code)
}

func (g *Ghost) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b, ok := g.images[r.URL.Path]; ok && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", http.DetectContentType(b))
		w.Write(b)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/ghost/api/admin/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if why := g.checkJWT(r); why != "" {
		ghostError(w, http.StatusUnauthorized, "UnauthorizedError", "", why)
		return
	}
	if g.status != 0 {
		ghostError(w, g.status, "NoPermissionError", "", "You do not have permission to perform this action")
		return
	}
	kind, id, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	post, found := g.posts[id]
	if (kind != "posts" && kind != "pages") || !found {
		ghostError(w, http.StatusNotFound, "NotFoundError", "", "Resource not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodGet:
		json.NewEncoder(w).Encode(map[string]any{kind: []any{post}})
	case http.MethodPut:
		if fn := g.beforePut; fn != nil {
			g.beforePut = nil
			fn(g, id)
		}
		var body map[string][]map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil || len(body[kind]) != 1 {
			ghostError(w, http.StatusBadRequest, "BadRequestError", "", "No "+kind+" in the body")
			return
		}
		upd := body[kind][0]
		if upd["updated_at"] != post["updated_at"] {
			ghostError(w, http.StatusConflict, "UpdateCollisionError", "UPDATE_COLLISION", "Saving failed! Someone else is editing this post.")
			return
		}
		for k, v := range upd {
			if k != "updated_at" && k != "id" {
				post[k] = v
			}
		}
		g.puts++
		g.touch(id)
		json.NewEncoder(w).Encode(map[string]any{kind: []any{post}})
	default:
		ghostError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "", "Method not allowed")
	}
}
