package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"picbed/imageproc"
)

// Error is an error with the HTTP status it deserves, a stable machine code
// and a message that tells the client what to do. Err holds internal detail
// for the log only.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds; sent as Retry-After when > 0
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// statusError is what other packages' errors (storage, fetch) implement to
// carry their own status and public message without importing handler.
type statusError interface {
	error
	HTTPStatus() int
	PublicMessage() string
}

// codedError is a statusError that also names its own stable code (fetch
// errors); it is answered exactly as it says, before any sentinel it wraps.
type codedError interface {
	statusError
	ErrorCode() string
}

// classify turns any error into the Error the client sees. Unknown errors
// are our bugs: 500 with no detail.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var sf *storeError
	if errors.As(err, &sf) {
		return storageFailure(sf)
	}
	var ce codedError
	if errors.As(err, &ce) {
		return &Error{Status: ce.HTTPStatus(), Code: ce.ErrorCode(), Message: ce.PublicMessage(), Err: err}
	}
	switch {
	case errors.Is(err, imageproc.ErrUnsupported):
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_format", Message: publicDetail(err) + "; send a JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC or AVIF image (SVG is refused)", Err: err}
	case errors.Is(err, imageproc.ErrTooLarge):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "too_many_pixels", Message: publicDetail(err) + "; shrink the image before uploading", Err: err}
	case errors.Is(err, imageproc.ErrCorrupt):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "corrupt_image", Message: publicDetail(err) + "; the file is truncated or damaged", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Status: http.StatusServiceUnavailable, Code: "timeout", Message: "the request took too long; try again", RetryAfter: 5, Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: "canceled", Message: "the request was canceled before it finished; try again", RetryAfter: 1, Err: err}
	}
	var se statusError
	if errors.As(err, &se) {
		return statusFailure(se, err)
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "picbed hit an internal error; the request id in the log tells what happened", Err: err}
}

// statusFailure answers an error that carries its own status and public
// message (err is se, or wraps it).
func statusFailure(se statusError, err error) *Error {
	e := &Error{Status: se.HTTPStatus(), Code: codeFor(se.HTTPStatus()), Message: se.PublicMessage(), Err: err}
	if e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests {
		e.RetryAfter = 5 // whoever said "try again" should say when
	}
	return e
}

// publicDetail is the error text imageproc produced: it names formats and
// sizes only, never paths or secrets.
func publicDetail(err error) string { return err.Error() }

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_format"
	case http.StatusUnprocessableEntity:
		return "unprocessable"
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return "overloaded"
	case http.StatusBadGateway:
		return "upstream_failed"
	case http.StatusGatewayTimeout:
		return "upstream_timeout"
	}
	return "error_" + strconv.Itoa(status)
}

// failed classifies err, logs its detail and sets Retry-After: what every
// error answer does before it is written in its route's shape.
func failed(w http.ResponseWriter, r *http.Request, err error) *Error {
	e := classify(err)
	lvl := slog.LevelInfo
	if e.Status >= 500 {
		lvl = slog.LevelError
	}
	logFrom(r.Context()).Log(r.Context(), lvl, "request failed", "status", e.Status, "code", e.Code, "err", redact(err.Error()))
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	return e
}

// writeError answers err as JSON {"error", "message"} and logs the detail.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := failed(w, r, err)
	msg := e.Message
	if e.Status == http.StatusInternalServerError {
		msg += " (request " + requestID(r.Context()) + ")"
	}
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
