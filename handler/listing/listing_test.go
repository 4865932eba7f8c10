package listing_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"picbed/handler/listing"
	"picbed/storage"
	"picbed/storage/osstest"
)

// counting counts the store's LIST calls.
type counting struct {
	listing.Lister
	calls atomic.Int64
}

func (c *counting) List(ctx context.Context, q storage.ListQuery) (storage.Listing, error) {
	c.calls.Add(1)
	return c.Lister.List(ctx, q)
}

// fixture is n uploads spread over months (newest month first when
// ordered), each with a modification time inside its month unrelated to
// its key's order: what img/{year}/{month}/{hash}.{ext} gives.
type fixture struct {
	objs []storage.Object // in the order the gallery must show them
}

func makeFixture(n, months int) fixture {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	var f fixture
	for i := range n {
		m := start.AddDate(0, i%months, 0)
		mod := m.Add(time.Duration(r.IntN(27*24*3600)) * time.Second)
		key := fmt.Sprintf("img/%04d/%02d/%016x%016x.png", m.Year(), int(m.Month()), r.Uint64(), r.Uint64())
		f.objs = append(f.objs, storage.Object{Key: key, Size: int64(100 + i%50), Modified: mod})
	}
	sort.Slice(f.objs, func(i, j int) bool {
		a, b := f.objs[i], f.objs[j]
		if fa, fb := a.Key[:len("img/2018/01/")], b.Key[:len("img/2018/01/")]; fa != fb {
			return fa > fb
		}
		if !a.Modified.Equal(b.Modified) {
			return a.Modified.After(b.Modified)
		}
		return a.Key < b.Key
	})
	return f
}

var defaultLayout = listing.Layout{Root: "img/", TimeFolders: 2}

func keysOf(objs []storage.Object) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return strings.Join(ks, "\n")
}

// checkWalk pages through the first pages, Lsky's page 250 and a page
// whose cursor object was deleted, counting LIST calls.
func checkWalk(t *testing.T, st *counting, f fixture, del func(key string), maxCalls int64) {
	ctx := context.Background()
	const per = 50
	var after *listing.Cursor
	for page := range 3 {
		st.calls.Store(0)
		p, err := listing.Newest(ctx, st, defaultLayout, after, 0, per)
		if err != nil {
			t.Fatal(err)
		}
		want := f.objs[page*per : (page+1)*per]
		if keysOf(p.Objects) != keysOf(want) {
			t.Fatalf("page %d:\n%s\nwant newest first:\n%s", page+1, keysOf(p.Objects), keysOf(want))
		}
		if n := st.calls.Load(); n > maxCalls {
			t.Errorf("page %d of %d took %d LIST calls, want at most %d", page+1, per, n, maxCalls)
		}
		t.Logf("page %d of %d: %d LIST calls", page+1, per, st.calls.Load())
		for i, o := range p.Objects {
			if o.Size != want[i].Size || !o.Modified.Equal(want[i].Modified) {
				t.Errorf("%s: size %d time %v, want %d %v from the listing", o.Key, o.Size, o.Modified, want[i].Size, want[i].Modified)
			}
		}
		after = p.Next
	}

	t.Run("Lsky page 250 in one walk", func(t *testing.T) {
		const lskyPer = 40
		st.calls.Store(0)
		p, err := listing.Newest(ctx, st, defaultLayout, nil, 249*lskyPer, lskyPer)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.objs[249*lskyPer : 250*lskyPer]; keysOf(p.Objects) != keysOf(want) {
			t.Fatalf("page 250 is not the 250th page")
		}
		// One walk over the first 10,000 objects: their folders' LIST calls
		// plus the folder lookups, not 250 listings.
		if n, limit := st.calls.Load(), int64(10_000/1000+len(f.objs)/1000/50+30); n > limit {
			t.Errorf("page 250 took %d LIST calls, want at most %d", n, limit)
		}
		t.Logf("Lsky page 250 of %d: %d LIST calls", lskyPer, st.calls.Load())
	})

	t.Run("the cursor's object was deleted", func(t *testing.T) {
		p1, err := listing.Newest(ctx, st, defaultLayout, nil, 0, per)
		if err != nil {
			t.Fatal(err)
		}
		del(p1.Objects[per-1].Key) // the gallery's Delete button on the last tile
		p2, err := listing.Newest(ctx, st, defaultLayout, p1.Next, 0, per)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.objs[per : 2*per]; keysOf(p2.Objects) != keysOf(want) {
			t.Fatalf("page 2 after deleting the cursor's object:\n%s\nwant:\n%s", keysOf(p2.Objects), keysOf(want))
		}
	})
}

// TestNewestOverOSS: 100,000 keys in the fake OSS over 100 months; a page
// of 50 costs a few LIST calls (the year and month lookups and the month's
// keys), no HEAD at all.
func TestNewestOverOSS(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 keys")
	}
	f := makeFixture(100_000, 100)
	cred := osstest.Credential{ID: "LTAI-list", Secret: "secret-for-tests"}
	srv := osstest.New(cred, "list-bucket")
	t.Cleanup(srv.Close)
	for _, o := range f.objs {
		srv.Seed("list-bucket", o.Key, osstest.Object{Data: make([]byte, o.Size), Modified: o.Modified})
	}
	srv.Seed("list-bucket", "inbox/raw.jpg", osstest.Object{Data: []byte("x")})
	oss, err := storage.NewOSS(storage.OSSConfig{Endpoint: srv.Endpoint(), Bucket: "list-bucket",
		Credentials: func(context.Context) (storage.Credentials, error) {
			return storage.Credentials{AccessKeyID: cred.ID, AccessKeySecret: cred.Secret}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	st := &counting{Lister: oss}
	checkWalk(t, st, f, func(key string) { oss.Delete(context.Background(), key) }, 4)
	if n := srv.Count("HeadObject", "") + srv.Count("GetObjectMeta", ""); n != 0 {
		t.Errorf("%d HEAD requests; a listing needs none", n)
	}
}

// TestNewestOverLocal: 20,000 files in local storage over 24 months.
func TestNewestOverLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 files")
	}
	f := makeFixture(20_000, 24)
	dir := t.TempDir()
	for _, o := range f.objs {
		p := filepath.Join(dir, filepath.FromSlash(o.Key))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, make([]byte, o.Size), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, o.Modified, o.Modified)
	}
	local, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := &counting{Lister: local}
	checkWalk(t, st, f, func(key string) { local.Delete(context.Background(), key) }, 4)
}

// TestNewestWithoutTimeFolders: a template like {hash}.{ext} under up/ is
// one folder, ordered by time, with the same cursor rules.
func TestNewestWithoutTimeFolders(t *testing.T) {
	dir := t.TempDir()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 7 {
		k := fmt.Sprintf("up/%c.png", 'g'-i) // key order opposite to time order
		p := filepath.Join(dir, filepath.FromSlash(k))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
		mt := base.Add(time.Duration(i) * time.Hour)
		os.Chtimes(p, mt, mt)
		want = append([]string{k}, want...)
	}
	local, _ := storage.NewLocal(dir)
	lay := listing.Layout{Root: "up/"}
	var got []string
	var after *listing.Cursor
	for range 5 {
		p, err := listing.Newest(context.Background(), local, lay, after, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Objects {
			got = append(got, o.Key)
		}
		if after = p.Next; after == nil {
			break
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("listed %v, want %v", got, want)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := listing.Cursor{Modified: time.Date(2026, 11, 29, 1, 2, 3, 456, time.UTC), Key: "img/2026/11/a~b.png"}
	got, err := listing.ParseCursor(c.String())
	if err != nil || got.Key != c.Key || !got.Modified.Equal(c.Modified) {
		t.Errorf("ParseCursor(String()) = %+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"", "img/2026/11/a.png", "!!", "MTIz"} {
		if _, err := listing.ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}
