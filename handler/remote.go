package handler

import (
	"net/http"
)

// remoteRoutes registers the routes that fetch remote images:
// POST /api/rehost and POST /webhook. Upload by URL rides on POST /upload.
func (h *Handler) remoteRoutes(m *http.ServeMux) {
	h.fetcher = newFetcher(h.cfg, h.fetchOpts)
	jo := h.fetchOpts
	for _, c := range h.connectors {
		jo.AllowOrigins = append(jo.AllowOrigins[:len(jo.AllowOrigins):len(jo.AllowOrigins)], c.Origin())
	}
	h.jobFetcher = newFetcher(h.cfg, jo)
	m.Handle("POST /api/rehost", h.route(h.auth(h.rehost)))
	m.Handle("POST /webhook", h.route(h.webhook))
	m.Handle("GET /api/jobs/{id}", h.route(h.manage(h.getJob)))
}
