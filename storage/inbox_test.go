package storage_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"picbed/storage"
	"picbed/storage/osstest"
)

// inboxKeys are object names OSS accepts that picbed would never write
// itself: what phones, Finder, sync tools and Windows users put in an inbox.
var inboxKeys = []string{
	"inbox/.DS_Store",
	"inbox/._IMG_1.jpg",
	"inbox/a//b.jpg",
	`inbox/dir\file.jpg`,
	"inbox/\u200fRTL mark.jpg",
	"inbox/invoice\u202egpj.exe",
	"inbox/../up.jpg",
	"inbox/./here.jpg",
	"inbox/trailing.",
}

// TestOSSReadsAnyNameOSSAllows: Stat, Get and Delete reach an object by the
// exact name an OSS event gave, whatever picbed's own key rules say; Put
// keeps picbed's rules.
func TestOSSReadsAnyNameOSSAllows(t *testing.T) {
	for _, key := range inboxKeys {
		t.Run(key, func(t *testing.T) {
			s, srv := newOSS(t, goodCred)
			srv.Seed(bucketName, key, osstest.Object{Data: []byte("bytes of " + key), ContentType: "image/jpeg"})
			ctx := context.Background()
			o, err := s.Stat(ctx, key)
			if err != nil || o.Key != key {
				t.Fatalf("Stat = %+v, %v; want the object", o, err)
			}
			data, _, err := s.Get(ctx, key)
			if err != nil || string(data) != "bytes of "+key {
				t.Fatalf("Get = %q, %v", data, err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, ok := srv.Object(bucketName, key); ok {
				t.Errorf("the object is still there after Delete")
			}
			if err := s.Put(ctx, key, []byte("x"), storage.PutOptions{}); err == nil && storage.CheckKey(key) != nil {
				t.Errorf("Put accepted %q, which picbed's key rules refuse", key)
			}
		})
	}
}

// TestOSSRefusesNamesOSSRefuses: names OSS itself refuses never leave
// picbed, as a 400 (a permanent refusal, not an outage).
func TestOSSRefusesNamesOSSRefuses(t *testing.T) {
	s, srv := newOSS(t, goodCred)
	for _, key := range []string{"", "/abs.jpg", `\abs.jpg`, strings.Repeat("k", 1024), "inbox/\xff.jpg"} {
		_, err := s.Stat(context.Background(), key)
		var se *storage.Error
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest {
			t.Errorf("Stat(%.40q) = %v, want a 400 storage.Error", key, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("names OSS refuses reached OSS: %d requests", n)
	}
}
