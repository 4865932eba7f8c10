package handler

import (
	"net/http"

	"picbed/handler/fetch"
)

// remoteRoutes registers the routes that fetch remote images:
// POST /api/rehost and POST /webhook. Upload by URL rides on POST /upload.
func (h *Handler) remoteRoutes(m *http.ServeMux) {
	if h.fetcher == nil {
		h.fetcher = newFetcher(h.cfg, fetch.Options{})
	}
	m.Handle("POST /api/rehost", h.route(h.auth(h.rehost)))
	m.Handle("POST /webhook", h.route(h.webhook))
}
