package handler

import (
	"context"
	"errors"
)

// Outcome is what happened to one stored object handed to ProcessObject.
type Outcome struct {
	Key    string `json:"key"`
	Status string `json:"status"` // processed | skipped | failed
	URL    string `json:"url,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ProcessObject turns one object that arrived in the inbox (an OSS event)
// into a public image.
func (h *Handler) ProcessObject(ctx context.Context, bucket, key string, size int64) (Outcome, error) {
	return Outcome{Key: key, Status: "failed", Reason: "not implemented"}, errors.New("processing OSS events is not implemented yet")
}
