package storage

import (
	"context"
	"fmt"
	"regexp"
)

// variantDir holds the smaller copies the local server makes of an image
// (GET /f/{key}?w=N), one directory per key, under a dot name no key can
// reach and no listing walks. Delete removes an image's directory with it.
const variantDir = ".variants"

// variantName is what a variant's name may be: "w640.jpg".
var variantName = regexp.MustCompile(`^w[0-9]{1,5}\.[a-z]{2,4}$`)

// variantPath is the variant's file name relative to the root.
func (l *Local) variantPath(key, name string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if !variantName.MatchString(name) {
		return "", fmt.Errorf("invalid variant name %q", name)
	}
	return variantDir + "/" + key + "/" + name, nil
}

// GetVariant reads the variant name of key, or answers ErrNotFound.
func (l *Local) GetVariant(_ context.Context, key, name string) ([]byte, error) {
	p, err := l.variantPath(key, name)
	if err != nil {
		return nil, err
	}
	b, err := l.r.ReadFile(p)
	if err != nil && missing(err) {
		return nil, fmt.Errorf("%s %s: %w", key, name, ErrNotFound)
	}
	if err != nil {
		return nil, l.ioError("read", err)
	}
	return b, nil
}

// PutVariant keeps the variant name of key, atomically like Put.
func (l *Local) PutVariant(_ context.Context, key, name string, data []byte) error {
	p, err := l.variantPath(key, name)
	if err != nil {
		return err
	}
	if err := l.writeAtomic(p, data); err != nil {
		return l.ioError("write", err)
	}
	return nil
}

// deleteVariants removes every variant of key.
func (l *Local) deleteVariants(key string) error {
	if err := l.r.RemoveAll(variantDir + "/" + key); err != nil && !missing(err) {
		return l.ioError("delete", err)
	}
	return nil
}
