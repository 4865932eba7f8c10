package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"picbed/storage"
)

// InboxObject is one object an OSS event reports, as the door decoded it
// (the key already URL-decoded).
type InboxObject struct {
	Event  string // e.g. ObjectCreated:PutObject
	Bucket string
	Key    string
	Size   int64 // from the event; -1 when the event did not say
}

// Outcome is what happened to one stored object handed to ProcessObject.
type Outcome struct {
	Key          string `json:"key"`
	Status       string `json:"status"` // processed | skipped | failed
	URL          string `json:"url,omitempty"`
	Target       string `json:"target,omitempty"` // the public key written
	Deduplicated bool   `json:"deduplicated,omitempty"`
	Deleted      bool   `json:"deleted,omitempty"` // the source, with PICBED_INBOX_AFTER=delete
	Reason       string `json:"reason,omitempty"`
}

// Outcome statuses.
const (
	Processed = "processed"
	Skipped   = "skipped"
	Failed    = "failed"
)

// ProcessObject turns one object that arrived in the inbox (an OSS event)
// into a public image, with the same recipe and key template as uploads.
//
// Delivery is at least once, so it is idempotent: the key is derived from
// the content, and an existing result is not written again. A permanent
// failure (not an image, corrupt, over a limit) is an Outcome with status
// failed and a nil error, so FC does not retry it; a transient one (OSS 5xx,
// timeout) returns an error, so FC does.
func (h *Handler) ProcessObject(ctx context.Context, in InboxObject) (Outcome, error) {
	ctx, st := h.begin(ctx)
	out, err := h.processObject(ctx, in)
	lvl := slog.LevelInfo
	if err != nil {
		lvl = slog.LevelError
	} else if out.Status == Failed {
		lvl = slog.LevelWarn
	}
	var detail string
	if err != nil {
		detail = redact(err.Error())
	}
	st.log.Log(ctx, lvl, "inbox object", "event", in.Event, "key", in.Key,
		"status", out.Status, "target", out.Target, "deduplicated", out.Deduplicated, "deleted", out.Deleted, "reason", out.Reason, "err", detail)
	return out, err
}

func (h *Handler) processObject(ctx context.Context, in InboxObject) (Outcome, error) {
	out := Outcome{Key: in.Key}
	skip := func(format string, args ...any) (Outcome, error) {
		out.Status, out.Reason = Skipped, fmt.Sprintf(format, args...)
		return out, nil
	}
	fail := func(format string, args ...any) (Outcome, error) {
		out.Status, out.Reason = Failed, fmt.Sprintf(format, args...)
		return out, nil
	}
	switch {
	case !strings.HasPrefix(strings.TrimPrefix(in.Event, "oss:"), "ObjectCreated:"):
		return skip("event %q is not ObjectCreated", in.Event)
	case !strings.HasPrefix(in.Key, h.cfg.InboxPrefix):
		return skip("key is outside the inbox %q", h.cfg.InboxPrefix)
	case strings.HasSuffix(in.Key, "/"):
		return skip("a folder marker, not a file")
	case in.Bucket != "" && h.cfg.OSSBucket != "" && in.Bucket != h.cfg.OSSBucket:
		return skip("event from bucket %q, but picbed writes to %q (PICBED_OSS_BUCKET)", in.Bucket, h.cfg.OSSBucket)
	}
	if id, ok := h.jobObject(in.Key); ok {
		return h.processJobObject(ctx, in, id) // a webhook job queued for write-back (jobs.go)
	}
	switch {
	case in.Size > h.cfg.MaxBytes:
		return fail("%d bytes is over PICBED_MAX_BYTES (%d)", in.Size, h.cfg.MaxBytes)
	}

	// HEAD first: the loop guard and the real size, before any download.
	// The object is read by the exact name OSS gave, whatever picbed's own
	// key rules say; a name the store refuses is a permanent failure.
	obj, err := h.store.Stat(ctx, in.Key)
	if errors.Is(err, storage.ErrNotFound) {
		return skip("the object no longer exists (already processed and deleted?)")
	}
	if err != nil {
		return h.failure(out, err)
	}
	if obj.Meta["picbed"] != "" {
		return skip("the object carries picbed's own metadata (loop guard)")
	}
	if obj.Size > h.cfg.MaxBytes {
		return fail("%d bytes is over PICBED_MAX_BYTES (%d)", obj.Size, h.cfg.MaxBytes)
	}
	data, _, err := h.store.Get(ctx, in.Key)
	if errors.Is(err, storage.ErrNotFound) {
		return skip("the object no longer exists (already processed and deleted?)")
	}
	if err != nil {
		return h.failure(out, err)
	}
	if int64(len(data)) > h.cfg.MaxBytes {
		return fail("%d bytes is over PICBED_MAX_BYTES (%d)", len(data), h.cfg.MaxBytes)
	}

	origin := "oss://" + in.Bucket + "/" + in.Key
	u, err := h.ingest(ctx, image{data: data, name: path.Base(in.Key)}, h.cfg.Recipe(), origin)
	if err != nil {
		return h.failure(out, err)
	}
	out.Status, out.URL, out.Target, out.Deduplicated = Processed, u.URL, u.Key, u.Deduplicated

	if h.cfg.InboxAfter == "delete" {
		if err := h.deleteVerified(ctx, in.Key, u); err != nil {
			if permanent(err) { // the result is out; the source stays, and why is logged
				out.Reason = "the source was kept: " + classify(err).Message
				return out, nil
			}
			return h.transient(out, err)
		}
		out.Deleted = true
	}
	return out, nil
}

// failure ends a record that failed: a refusal (not an image, over a
// limit, a name the store does not take) is a failed outcome FC must not
// retry; anything else is transient.
func (h *Handler) failure(out Outcome, err error) (Outcome, error) {
	if permanent(err) {
		out.Status, out.Reason = Failed, classify(err).Message
		return out, nil
	}
	return h.transient(out, err)
}

// permanent tells a refusal, which a retry cannot change, from a failure
// worth retrying: any 4xx but a timeout or throttling.
func permanent(err error) bool {
	s := classify(err).Status
	return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

// deleteVerified deletes the inbox source only once the result is read
// back from storage with the size that was written: a crash or a failed
// write in between leaves the source for the retry.
func (h *Handler) deleteVerified(ctx context.Context, source string, u *Uploaded) error {
	got, err := h.store.Stat(ctx, u.Key)
	if err != nil {
		return fmt.Errorf("reading back %s before deleting the source: %w", u.Key, err)
	}
	if got.Size != int64(u.Size) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "verify_failed",
			Message: fmt.Sprintf("the result %s reads back as %d bytes, %d were written; the source is kept", u.Key, got.Size, u.Size)}
	}
	return h.store.Delete(ctx, source)
}

// transient answers a failure worth retrying: FC retries the invocation.
func (h *Handler) transient(out Outcome, err error) (Outcome, error) {
	out.Status, out.Reason = Failed, classify(err).Message
	return out, err
}

// ProcessFile stores one local file with the same recipe as uploads and
// events (the CLI's `main process`, e.g. to migrate a folder of blog
// images). A bad image is an error whose message says why.
func (h *Handler) ProcessFile(ctx context.Context, name string, data []byte) (*Uploaded, error) {
	if int64(len(data)) > h.cfg.MaxBytes {
		return nil, h.tooLarge()
	}
	u, err := h.ingest(ctx, image{data: data, name: path.Base(strings.ReplaceAll(name, "\\", "/"))}, h.cfg.Recipe(), "file:"+path.Base(name))
	if err != nil {
		return nil, classify(err)
	}
	return u, nil
}
