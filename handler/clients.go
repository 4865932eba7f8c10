package handler

import "net/http"

// clientRoutes registers the page, the management API and the client
// dialects (PicGo-Server, Lsky Pro, Chevereto) with their delete links.
func (h *Handler) clientRoutes(m *http.ServeMux) {
	m.Handle("GET /{$}", h.route(h.page))
	m.Handle("GET /assets/{name}", h.route(h.asset))
	m.Handle("GET /favicon.ico", h.route(h.favicon))

	m.Handle("GET /api/images", h.route(h.manage(h.listImages)))
	m.Handle("DELETE /api/images/{key...}", h.route(h.manage(h.deleteImageRoute)))

	m.Handle("POST /picgo/upload", h.dialectRoute(h.picgoUpload, writePicgoError))
	m.Handle("POST /api/v1/upload", h.dialectRoute(h.lskyUpload, writeLskyError))
	m.Handle("GET /api/v1/images", h.dialectRoute(h.lskyList, writeLskyError))
	m.Handle("DELETE /api/v1/images/{key...}", h.dialectRoute(h.lskyDelete, writeLskyError))
	m.Handle("POST /api/1/upload", h.dialectRoute(h.cheveretoUpload, writeChevError))

	m.Handle("GET "+deleteLinkPrefix+"{key...}", h.linkRoute(h.deleteLinkConfirm))
	m.Handle("POST "+deleteLinkPrefix+"{key...}", h.linkRoute(h.deleteLinkDelete))
	m.Handle("DELETE "+deleteLinkPrefix+"{key...}", h.linkRoute(h.deleteLinkDelete))
}
