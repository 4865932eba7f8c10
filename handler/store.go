package handler

import (
	"context"
	"errors"
	"net/http"

	"picbed/storage"
)

// Store is what picbed needs from storage: a few methods, implemented by
// storage.Local and storage.OSS.
type Store interface {
	Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error
	Stat(ctx context.Context, key string) (storage.Object, error)
	Get(ctx context.Context, key string) ([]byte, storage.Object, error)
	List(ctx context.Context, q storage.ListQuery) (storage.Listing, error) // one page in key order
	Delete(ctx context.Context, key string) error
}

// guardedStore is the one way from the handler to the store: New wraps the
// store in it once, so that every call (uploads, the gallery, /f/, the
// client dialects, delete links, OSS events) runs under the storage time
// limit and fails the same way. A missing object is an answer, not a
// failure, and passes through as storage.ErrNotFound; anything else
// becomes a *storeError, which classify answers as 502/503, never 500.
type guardedStore struct {
	store  Store
	limits *timeLimits // the Handler's: tests adjust them after New
}

func guardStore(s Store, l *timeLimits) Store {
	if g, ok := s.(*guardedStore); ok {
		return g
	}
	return &guardedStore{store: s, limits: l}
}

func (g *guardedStore) stage(ctx context.Context) (context.Context, context.CancelFunc) {
	return g.limits.stage(ctx, g.limits.storage)
}

func (g *guardedStore) Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error {
	ctx, cancel := g.stage(ctx)
	defer cancel()
	return storeFailed("put", g.store.Put(ctx, key, data, o))
}

func (g *guardedStore) Stat(ctx context.Context, key string) (storage.Object, error) {
	ctx, cancel := g.stage(ctx)
	defer cancel()
	o, err := g.store.Stat(ctx, key)
	return o, storeFailed("stat", err)
}

func (g *guardedStore) Get(ctx context.Context, key string) ([]byte, storage.Object, error) {
	ctx, cancel := g.stage(ctx)
	defer cancel()
	b, o, err := g.store.Get(ctx, key)
	return b, o, storeFailed("get", err)
}

func (g *guardedStore) List(ctx context.Context, q storage.ListQuery) (storage.Listing, error) {
	ctx, cancel := g.stage(ctx)
	defer cancel()
	l, err := g.store.List(ctx, q)
	return l, storeFailed("list", err)
}

func (g *guardedStore) Delete(ctx context.Context, key string) error {
	ctx, cancel := g.stage(ctx)
	defer cancel()
	return storeFailed("delete", g.store.Delete(ctx, key))
}

// storeError is a failed store call.
type storeError struct {
	op  string
	err error
}

func (e *storeError) Error() string { return "storage " + e.op + ": " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeFailed(op string, err error) error {
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return &storeError{op: op, err: err}
}

// storageFailure is what the client sees of a failed store call: the
// store's own status when it has one (503 as storage_unavailable), 503
// storage_timeout when it did not answer in time, else 502 storage_failed.
// Retrying is always safe: the same image gets the same key.
func storageFailure(se *storeError) *Error {
	err := se.err
	var e *Error
	var st statusError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, storage.ErrNoCredentials):
		return &Error{Status: http.StatusInternalServerError, Code: "not_configured", Message: storage.ErrNoCredentials.Error(), Err: se}
	case errors.As(err, &st) && st.HTTPStatus() == http.StatusServiceUnavailable:
		return &Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable", RetryAfter: 5, Message: st.PublicMessage(), Err: se}
	case errors.As(err, &st):
		return statusFailure(st, se)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: "storage_timeout", RetryAfter: 5,
			Message: "the storage did not answer in time; try again", Err: se}
	}
	return &Error{Status: http.StatusBadGateway, Code: "storage_failed",
		Message: "the storage failed; try again (it is safe: the same image gets the same link)", Err: se}
}
