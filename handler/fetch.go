package handler

import (
	"context"
	"net/http"
)

// fetchImage downloads an image by URL with the SSRF-safe fetcher.
func (h *Handler) fetchImage(ctx context.Context, rawURL string) (image, error) {
	return image{}, errorf(http.StatusNotImplemented, "not_implemented", "upload by URL is not available yet")
}
