package variant

import (
	"context"
	"strconv"
	"sync"
)

// Cache keeps variants once made (locally: under the data directory, next
// to the image, and deleted with it). Get answers an error wrapping
// storage.ErrNotFound, or any error, when it has nothing.
type Cache interface {
	GetVariant(ctx context.Context, key, name string) ([]byte, error)
	PutVariant(ctx context.Context, key, name string, data []byte) error
}

// Maker serves local variants: from the cache, else made by Make once,
// however many requests ask for the same one at the same time, and kept.
type Maker struct {
	Cache Cache
	// Make reads the image under key and resizes it to width w.
	Make func(ctx context.Context, key string, w int) ([]byte, error)

	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done    chan struct{}
	data    []byte
	err     error
	waiters int // requests waiting on this one (under Maker.mu; tests read it)
}

// Name is the cache name of the w-wide variant written as ext ("jpg"):
// "w640.jpg".
func Name(w int, ext string) string { return "w" + strconv.Itoa(w) + "." + ext }

// Get answers the w-wide variant of key, named name in the cache. The
// first request for it makes it; requests that come while it is being made
// wait for that one result instead of making their own. The making runs
// detached from the first request's cancellation, since others wait on it.
func (m *Maker) Get(ctx context.Context, key, name string, w int) ([]byte, error) {
	if b, err := m.Cache.GetVariant(ctx, key, name); err == nil {
		return b, nil
	}
	id := key + "\x00" + name
	m.mu.Lock()
	if c, ok := m.inflight[id]; ok {
		c.waiters++
		m.mu.Unlock()
		select {
		case <-c.done:
			return c.data, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	if m.inflight == nil {
		m.inflight = map[string]*call{}
	}
	m.inflight[id] = c
	m.mu.Unlock()

	c.data, c.err = m.make(context.WithoutCancel(ctx), key, name, w)
	m.mu.Lock()
	delete(m.inflight, id)
	m.mu.Unlock()
	close(c.done)
	return c.data, c.err
}

// Waiting is how many requests wait on the making of key's variant name
// now (0 when it is not being made): what a test's barrier waits for.
func (m *Maker) Waiting(key, name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.inflight[key+"\x00"+name]; ok {
		return c.waiters
	}
	return 0
}

// make checks the cache once more (a request that finished making it may
// have left just before this one came), then makes and keeps the variant.
func (m *Maker) make(ctx context.Context, key, name string, w int) ([]byte, error) {
	if b, err := m.Cache.GetVariant(ctx, key, name); err == nil {
		return b, nil
	}
	b, err := m.Make(ctx, key, w)
	if err != nil {
		return nil, err
	}
	if err := m.Cache.PutVariant(ctx, key, name, b); err != nil {
		return nil, err
	}
	return b, nil
}
