// Package osstest is a fake Alibaba Cloud OSS for tests: an httptest server
// that speaks enough of the OSS REST API for picbed's store (PutObject,
// GetObject, HeadObject, GetObjectMeta, DeleteObject, ListObjects V1 and V2)
// and for its deploy setup and doctor (PutBucket, GetBucketInfo, Get/Put
// BucketAcl, BucketPolicy and BucketPublicAccessBlock, with anonymous reads
// decided by Block Public Access, the ACL and the policy as OSS decides
// them), and checks requests the way OSS does, so that a test fails where real OSS
// would: the V1 signature (HMAC-SHA1 over verb, Content-MD5, Content-Type,
// Date, the x-oss-* headers and the canonical resource with its
// sub-resources), the STS security token, the request date, and Content-MD5
// against the body. Errors are OSS's XML bodies with OSS's codes (on HEAD,
// in the x-oss-err header, as OSS does).
//
// Only path-style addressing is served (http://127.0.0.1:PORT/bucket/key),
// which is what the SDK uses for an IP endpoint.
package osstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credential is one key pair the server accepts. A non-empty Token makes it
// an STS credential: requests signed with it must carry the token.
type Credential struct {
	ID, Secret, Token string
}

// Object is one stored object, with the headers it was written with.
type Object struct {
	Data         []byte
	ContentType  string
	CacheControl string
	ContentMD5   string // as sent by the client, "" when none was
	Meta         map[string]string
	Modified     time.Time
}

// Request is one request the server answered, for assertions like "the
// retried event wrote once".
type Request struct {
	Op     string // PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject, ListObjects, ListObjectsV2
	Key    string
	Status int
}

// Fault makes matching requests fail (or stall) instead of being served.
// Empty Op/KeyPrefix match everything; the first Skip matching
// requests pass; Count is how many requests it hits after that (0 = every
// one).
type Fault struct {
	Op        string
	KeyPrefix string
	Status    int    // e.g. 500, 503
	Code      string // OSS error code, e.g. InternalError
	Delay     time.Duration
	Skip      int
	Count     int
}

// Server is the fake OSS. Its zero value is not usable: call New.
type Server struct {
	*httptest.Server

	// Clock stamps Last-Modified; tests may replace it before use.
	Clock func() time.Time

	mu       sync.Mutex
	bareHead bool
	buckets  map[string]map[string]*Object
	state    map[string]*bucketState
	newBlock bool
	creds    map[string]Credential
	faults   []*Fault
	requests []Request
	seq      int
	styles   map[string]string // bucket/name -> image processing (process.go)
}

// New starts a server holding the named empty buckets, accepting cred.
// Close it when done (t.Cleanup(s.Close)).
func New(cred Credential, buckets ...string) *Server {
	s := &Server{buckets: map[string]map[string]*Object{}, state: map[string]*bucketState{}, newBlock: true,
		creds: map[string]Credential{}, Clock: time.Now}
	for _, b := range buckets {
		s.buckets[b] = map[string]*Object{}
		s.state[b] = &bucketState{acl: "private"}
	}
	s.creds[cred.ID] = cred
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Endpoint is the URL to give the SDK (an IP, so path-style).
func (s *Server) Endpoint() string { return s.URL }

// BareHeadErrors makes HEAD errors carry no x-oss-err header (only the
// status), as some OSS-compatible endpoints answer.
func (s *Server) BareHeadErrors(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bareHead = on
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Object returns a copy of the object under key.
func (s *Server) Object(bucket, key string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.buckets[bucket][key]
	if !ok {
		return Object{}, false
	}
	c := *o
	c.Data = bytes.Clone(o.Data)
	return c, true
}

// Keys lists the bucket's keys in order.
func (s *Server) Keys(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ks []string
	for k := range s.buckets[bucket] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Seed stores an object directly, as another client would have.
func (s *Server) Seed(bucket, key string, o Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Modified.IsZero() {
		o.Modified = s.Clock().UTC().Truncate(time.Second)
	}
	if o.Meta == nil {
		o.Meta = map[string]string{}
	}
	s.buckets[bucket][key] = &o
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many answered requests had op (and key, when not "").
func (s *Server) Count(op, key string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op && (key == "" || r.Key == key) && r.Status < 300 {
			n++
		}
	}
	return n
}

// call is one parsed request.
type call struct {
	r       *http.Request
	bucket  string
	key     string
	op      string
	body    []byte
	id      string
	process string // x-oss-process of a GET (process.go)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("5F0A%020X", s.seq)
	s.mu.Unlock()
	w.Header().Set("X-Oss-Request-Id", id)
	w.Header().Set("Server", "AliyunOSS")
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	c := &call{r: r, id: id}
	status := s.handle(w, c)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Op: c.op, Key: c.key, Status: status})
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, c *call) int {
	r := c.r
	p := strings.TrimPrefix(r.URL.Path, "/")
	c.bucket, c.key, _ = strings.Cut(p, "/")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return s.fail(w, c, http.StatusBadRequest, "IncompleteBody", "the body could not be read")
	}
	c.body = body
	c.op = operation(r, c.key)
	if c.bucket == "" {
		return s.fail(w, c, http.StatusNotImplemented, "NotImplemented", "osstest serves path-style bucket requests only")
	}
	if c.op == "ObjectGET?x-oss-process" || c.op == "ObjectHEAD?x-oss-process" {
		c.op = "GetObject" // an image-processing read (process.go)
		if c.r.Method == http.MethodHead {
			c.op = "HeadObject"
		}
		c.process = r.URL.Query().Get("x-oss-process")
	}
	if r.Header.Get("Authorization") == "" && s.anonymousAllowed(c) {
		// served like any read: public through the ACL or the bucket policy
	} else if status := s.authorize(w, c); status != 0 {
		return status
	}
	if f := s.fault(c); f != nil {
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return 499
			}
		}
		if f.Status != 0 {
			code := f.Code
			if code == "" {
				code = "InternalError"
			}
			return s.fail(w, c, f.Status, code, "injected fault")
		}
	}
	if c.key == "" && strings.Contains(c.op, "Bucket") && !strings.HasPrefix(c.op, "Bucket") {
		return s.bucketOp(w, c)
	}
	s.mu.Lock()
	objs, ok := s.buckets[c.bucket]
	s.mu.Unlock()
	if !ok {
		return s.fail(w, c, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	}
	switch c.op {
	case "PutObject":
		return s.put(w, c, objs)
	case "GetObject", "HeadObject", "GetObjectMeta":
		return s.get(w, c, objs)
	case "DeleteObject":
		s.mu.Lock()
		delete(objs, c.key)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case "ListObjects", "ListObjectsV2":
		return s.list(w, c, objs)
	}
	return s.fail(w, c, http.StatusNotImplemented, "NotImplemented", "osstest does not implement "+r.Method+" "+r.URL.RawQuery)
}

// operation names the API a request calls.
func operation(r *http.Request, key string) string {
	q := r.URL.Query()
	switch {
	case key == "" && r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case key == "" && r.Method == http.MethodGet && len(subResources(q)) == 0:
		return "ListObjects"
	case key == "" && r.Method == http.MethodPut && len(subResources(q)) == 0:
		return "PutBucket"
	case key == "" && r.Method == http.MethodGet && q.Has("bucketInfo"):
		return "GetBucketInfo"
	case key == "" && len(subResources(q)) == 1 && (r.Method == http.MethodGet || r.Method == http.MethodPut):
		verb := map[string]string{http.MethodGet: "Get", http.MethodPut: "Put"}[r.Method]
		switch sub := subResources(q)[0]; sub {
		case "acl":
			return verb + "BucketAcl"
		case "policy":
			return verb + "BucketPolicy"
		case "publicAccessBlock":
			return verb + "BucketPublicAccessBlock"
		}
		return "Bucket" + r.Method
	case key == "":
		return "Bucket" + r.Method
	case len(subResources(q)) == 1 && q.Has("objectMeta") && r.Method == http.MethodHead:
		return "GetObjectMeta"
	case len(subResources(q)) > 0:
		return "Object" + r.Method + "?" + strings.Join(subResources(q), "&")
	}
	switch r.Method {
	case http.MethodPut:
		return "PutObject"
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method
}

func (s *Server) fault(c *call) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Op != "" && f.Op != c.op) || !strings.HasPrefix(c.key, f.KeyPrefix) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return nil
		}
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		cp := *f
		return &cp
	}
	return nil
}

// authorize checks the request like OSS: a V1 Authorization header for a
// known key, the STS token that key needs, a fresh Date, and the signature.
// It answers the error itself and returns its status, or 0 when allowed.
func (s *Server) authorize(w http.ResponseWriter, c *call) int {
	r := c.r
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return s.fail(w, c, http.StatusForbidden, "AccessDenied", "You have no right to access this object because of bucket acl.")
	}
	if !strings.HasPrefix(auth, "OSS ") {
		return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid (osstest checks V1 signatures only).")
	}
	id, sig, ok := strings.Cut(strings.TrimPrefix(auth, "OSS "), ":")
	if !ok {
		return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.")
	}
	s.mu.Lock()
	cred, known := s.creds[id]
	s.mu.Unlock()
	tok := r.Header.Get("X-Oss-Security-Token")
	if !known || (cred.Token != "" && tok == "") {
		return s.failWith(w, c, http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.", "<OSSAccessKeyId>"+xmlText(id)+"</OSSAccessKeyId>")
	}
	if cred.Token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(cred.Token)) != 1 {
		return s.fail(w, c, http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.")
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return s.fail(w, c, http.StatusForbidden, "AccessDenied", "OSS authentication requires a valid Date.")
	}
	if d := time.Since(date); d > 15*time.Minute || d < -15*time.Minute {
		return s.fail(w, c, http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	toSign := stringToSign(r, c.bucket, c.key)
	mac := hmac.New(sha1.New, []byte(cred.Secret))
	io.WriteString(mac, toSign)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return s.failWith(w, c, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			"<OSSAccessKeyId>"+xmlText(id)+"</OSSAccessKeyId><StringToSign>"+xmlText(toSign)+"</StringToSign>")
	}
	if md := r.Header.Get("Content-MD5"); md != "" && md != base64MD5(c.body) {
		return s.fail(w, c, http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return 0
}

// subResourceNames are the query parameters OSS signs in the canonical
// resource (OSS's documented list of sub-resources and response overrides).
var subResourceNames = map[string]bool{
	"acl": true, "uploads": true, "location": true, "cors": true, "logging": true, "website": true,
	"referer": true, "lifecycle": true, "delete": true, "append": true, "tagging": true, "objectMeta": true,
	"uploadId": true, "partNumber": true, "security-token": true, "position": true, "img": true, "style": true,
	"styleName": true, "replication": true, "replicationProgress": true, "replicationLocation": true,
	"cname": true, "bucketInfo": true, "comp": true, "qos": true, "live": true, "status": true, "vod": true,
	"startTime": true, "endTime": true, "symlink": true, "x-oss-process": true, "response-content-type": true,
	"response-content-language": true, "response-expires": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true, "restore": true,
	"callback": true, "callback-var": true, "policy": true, "stat": true, "encryption": true,
	"versions": true, "versioning": true, "versionId": true, "continuation-token": true, "worm": true,
	"inventory": true, "inventoryId": true, "x-oss-traffic-limit": true, "x-oss-request-payer": true,
	"sequential": true, "requestPayment": true, "transferAcceleration": true, "metaQuery": true,
	"publicAccessBlock": true,
}

func subResources(q url.Values) []string {
	var ks []string
	for k := range q {
		if subResourceNames[k] {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// stringToSign is the V1 string OSS signs for r: verb, Content-MD5,
// Content-Type, Date, the lower-cased x-oss-* headers sorted by name, and
// the canonical resource /bucket/key with the signed sub-resources sorted.
// A SignatureDoesNotMatch answer carries it, as OSS's does.
func stringToSign(r *http.Request, bucket, key string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(r.Header.Get("Date") + "\n")
	var names []string
	oh := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") && len(v) > 0 {
			names = append(names, lk)
			oh[lk] = v[0]
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n + ":" + oh[n] + "\n")
	}
	b.WriteString("/" + bucket + "/" + key)
	q := r.URL.Query()
	if subs := subResources(q); len(subs) > 0 {
		parts := make([]string, len(subs))
		for i, k := range subs {
			parts[i] = k
			if v := q.Get(k); v != "" {
				parts[i] += "=" + v
			}
		}
		b.WriteString("?" + strings.Join(parts, "&"))
	}
	return b.String()
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func (s *Server) put(w http.ResponseWriter, c *call, objs map[string]*Object) int {
	r := c.r
	if len(c.key) > 1023 {
		return s.fail(w, c, http.StatusBadRequest, "InvalidObjectName", "The object name is too long.")
	}
	o := &Object{
		Data:         c.body,
		ContentType:  r.Header.Get("Content-Type"),
		CacheControl: r.Header.Get("Cache-Control"),
		ContentMD5:   r.Header.Get("Content-MD5"),
		Meta:         map[string]string{},
		Modified:     s.Clock().UTC().Truncate(time.Second),
	}
	if o.ContentType == "" {
		o.ContentType = "application/octet-stream"
	}
	size := 0
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-meta-") && len(v) > 0 {
			o.Meta[strings.TrimPrefix(lk, "x-oss-meta-")] = v[0]
			size += len(lk) + len(v[0])
		}
	}
	if size > 8<<10 {
		return s.fail(w, c, http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
	}
	s.mu.Lock()
	objs[c.key] = o
	s.mu.Unlock()
	w.Header().Set("ETag", etag(o.Data))
	w.Header().Set("X-Oss-Hash-Crc64ecma", strconv.FormatUint(crc64.Checksum(o.Data, crcTable), 10))
	w.Header().Set("Content-Md5", base64MD5(o.Data))
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

func (s *Server) get(w http.ResponseWriter, c *call, objs map[string]*Object) int {
	s.mu.Lock()
	o, ok := objs[c.key]
	s.mu.Unlock()
	if !ok {
		return s.failWith(w, c, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "<Key>"+xmlText(c.key)+"</Key>")
	}
	if c.process != "" {
		return s.process(w, c, o, c.process)
	}
	h := w.Header()
	h.Set("ETag", etag(o.Data))
	h.Set("Last-Modified", o.Modified.Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(o.Data)))
	if c.op != "GetObjectMeta" {
		h.Set("Content-Type", o.ContentType)
		if o.CacheControl != "" {
			h.Set("Cache-Control", o.CacheControl)
		}
		h.Set("X-Oss-Hash-Crc64ecma", strconv.FormatUint(crc64.Checksum(o.Data, crcTable), 10))
		h.Set("X-Oss-Object-Type", "Normal")
		h.Set("X-Oss-Storage-Class", "Standard")
		if o.ContentMD5 != "" {
			h.Set("Content-Md5", o.ContentMD5)
		}
		for k, v := range o.Meta {
			h.Set("X-Oss-Meta-"+k, v)
		}
	}
	w.WriteHeader(http.StatusOK)
	if c.op == "GetObject" {
		w.Write(o.Data)
	}
	return http.StatusOK
}

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Type         string `xml:"Type"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type listResult struct {
	XMLName               xml.Name    `xml:"ListBucketResult"`
	Name                  string      `xml:"Name"`
	Prefix                string      `xml:"Prefix"`
	Marker                *string     `xml:"Marker,omitempty"`
	NextMarker            *string     `xml:"NextMarker,omitempty"`
	StartAfter            *string     `xml:"StartAfter,omitempty"`
	ContinuationToken     *string     `xml:"ContinuationToken,omitempty"`
	NextContinuationToken *string     `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int        `xml:"KeyCount,omitempty"`
	MaxKeys               int         `xml:"MaxKeys"`
	Delimiter             string      `xml:"Delimiter"`
	EncodingType          string      `xml:"EncodingType,omitempty"`
	IsTruncated           bool        `xml:"IsTruncated"`
	Contents              []listEntry `xml:"Contents"`
	CommonPrefixes        []string    `xml:"CommonPrefixes>Prefix"`
}

// list serves ListObjects (marker) and ListObjectsV2 (continuation-token,
// start-after) in key order with prefix, delimiter, max-keys (<= 1000) and
// encoding-type=url.
func (s *Server) list(w http.ResponseWriter, c *call, objs map[string]*Object) int {
	q := c.r.URL.Query()
	v2 := c.op == "ListObjectsV2"
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	max := 100
	if m := q.Get("max-keys"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 1000 {
			return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "max-keys must be 1 to 1000.")
		}
		max = n
	}
	after := q.Get("marker")
	if v2 {
		after = q.Get("start-after")
		if t := q.Get("continuation-token"); t != "" {
			b, err := base64.RawURLEncoding.DecodeString(t)
			if err != nil {
				return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "The continuation token is invalid.")
			}
			after = string(b)
		}
	}
	enc := func(s string) string { return s }
	if q.Get("encoding-type") == "url" {
		enc = url.QueryEscape
	}
	s.mu.Lock()
	keys := make([]string, 0, len(objs))
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	res := listResult{Name: c.bucket, Prefix: enc(prefix), MaxKeys: max, Delimiter: enc(delim), EncodingType: q.Get("encoding-type")}
	seen := map[string]bool{}
	last := ""
	n := 0
	for _, k := range keys {
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if seen[cp] {
					continue
				}
				if n == max {
					res.IsTruncated = true
					break
				}
				seen[cp] = true
				res.CommonPrefixes = append(res.CommonPrefixes, enc(cp))
				last = cp + "\xff" // the next page starts past every key under cp, as OSS's does
				n++
				continue
			}
		}
		if n == max {
			res.IsTruncated = true
			break
		}
		o := objs[k]
		res.Contents = append(res.Contents, listEntry{Key: enc(k), LastModified: o.Modified.Format("2006-01-02T15:04:05.000Z"),
			ETag: etag(o.Data), Type: "Normal", Size: len(o.Data), StorageClass: "Standard"})
		last = k
		n++
	}
	s.mu.Unlock()
	if v2 {
		res.KeyCount = &n
		if t := q.Get("continuation-token"); t != "" {
			res.ContinuationToken = &t
		}
		if sa := q.Get("start-after"); sa != "" {
			e := enc(sa)
			res.StartAfter = &e
		}
		if res.IsTruncated {
			t := enc(base64.RawURLEncoding.EncodeToString([]byte(last)))
			res.NextContinuationToken = &t
		}
	} else {
		m := enc(q.Get("marker"))
		res.Marker = &m
		if res.IsTruncated {
			nm := enc(last)
			res.NextMarker = &nm
		}
	}
	return writeXML(w, res)
}

func (s *Server) fail(w http.ResponseWriter, c *call, status int, code, msg string) int {
	return s.failWith(w, c, status, code, msg, "")
}

// failWith answers an OSS XML error. HEAD answers carry no body, so OSS
// puts the XML, base64-encoded, in x-oss-err; the SDK reads it from there.
func (s *Server) failWith(w http.ResponseWriter, c *call, status int, code, msg, extra string) int {
	body := xml.Header + "<Error>\n  <Code>" + code + "</Code>\n  <Message>" + xmlText(msg) + "</Message>\n  <RequestId>" + c.id +
		"</RequestId>\n  <HostId>" + xmlText(c.r.Host) + "</HostId>\n  " + extra + "\n  <EC>0000-00000000</EC>\n</Error>\n"
	w.Header().Set("X-Oss-Ec", "0000-00000000")
	if c.r.Method == http.MethodHead {
		s.mu.Lock()
		bare := s.bareHead
		s.mu.Unlock()
		if !bare {
			w.Header().Set("X-Oss-Err", base64.StdEncoding.EncodeToString([]byte(body)))
		}
		w.WriteHeader(status)
		return status
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, body)
	return status
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func etag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`
}

func base64MD5(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}
