package handler

import "net/http"

// clientRoutes registers the page, the management API and the client
// dialects (PicGo-Server, Lsky Pro, Chevereto).
func (h *Handler) clientRoutes(m *http.ServeMux) {}
