package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// Credentials are the keys one OSS request is signed with. On Function
// Compute they are the role's temporary STS credentials, new for every
// invocation; they are never logged.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// ErrNoCredentials is a store call without credentials: a configuration
// mistake (no role on the function, no ALIBABA_CLOUD_* outside FC), not a
// failure of OSS.
var ErrNoCredentials = errors.New("no OSS credentials: on Function Compute give the function its RAM role (s.yaml role, created by make deploy); elsewhere set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")

// CredentialsFunc returns the credentials for the request ctx belongs to.
type CredentialsFunc func(ctx context.Context) (Credentials, error)

// OSSConfig is what NewOSS needs.
type OSSConfig struct {
	Endpoint    string // scheme included; an IP endpoint gives path-style URLs
	Bucket      string
	Credentials CredentialsFunc
	// HTTPClient carries every request (connections are reused across
	// invocations); nil uses one with OSS-friendly timeouts.
	HTTPClient *http.Client
}

// OSS stores objects in an Alibaba Cloud OSS bucket. It holds no long-lived
// keys: every call asks Credentials for the current ones and builds (or
// reuses) a client signed with them.
type OSS struct {
	cfg    OSSConfig
	client *http.Client

	mu       sync.Mutex
	lastCred Credentials // what lastBkt is signed with
	lastBkt  *oss.Bucket
}

// NewOSS checks cfg and returns the store. It does not contact OSS: the
// first request is made with the first invocation's credentials.
func NewOSS(cfg OSSConfig) (*OSS, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("OSS storage needs a bucket (PICBED_OSS_BUCKET)")
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("OSS storage needs an endpoint (PICBED_OSS_ENDPOINT or PICBED_OSS_REGION)")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("OSS storage needs a credentials source")
	}
	c := cfg.HTTPClient
	if c == nil {
		c = defaultOSSClient()
	}
	// Redirects from OSS mean a wrong endpoint; following them would send
	// the signed request elsewhere.
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &OSS{cfg: cfg, client: &cc}, nil
}

// defaultOSSClient bounds each phase of a request; the overall bound is the
// caller's context (the FC deadline).
func defaultOSSClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       50 * time.Second,
		MaxIdleConnsPerHost:   32,
	}
	return &http.Client{Transport: t}
}

// Bucket is the bucket name the store writes to.
func (s *OSS) Bucket() string { return s.cfg.Bucket }

// bucket returns an SDK bucket signed with ctx's credentials. The last one
// is kept: on FC the credentials change rarely, and building a client is
// cheap anyway because the HTTP client is shared.
func (s *OSS) bucket(ctx context.Context) (*oss.Bucket, error) {
	cr, err := s.cfg.Credentials(ctx)
	if err == nil && (cr.AccessKeyID == "" || cr.AccessKeySecret == "") {
		err = errors.New("empty access key id or secret")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoCredentials, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastBkt != nil && s.lastCred == cr {
		return s.lastBkt, nil
	}
	opts := []oss.ClientOption{oss.HTTPClient(s.client), oss.UserAgent("picbed")}
	if cr.SecurityToken != "" {
		opts = append(opts, oss.SecurityToken(cr.SecurityToken))
	}
	cl, err := oss.New(s.cfg.Endpoint, cr.AccessKeyID, cr.AccessKeySecret, opts...)
	if err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Message: "PICBED_OSS_ENDPOINT is not a usable OSS endpoint", Err: err}
	}
	b, err := cl.Bucket(s.cfg.Bucket)
	if err != nil {
		return nil, &Error{Status: http.StatusBadGateway, Message: "PICBED_OSS_BUCKET is not a valid bucket name", Err: err}
	}
	s.lastCred, s.lastBkt = cr, b
	return b, nil
}

// Put writes data under key with the sniffed Content-Type, the immutable
// Cache-Control, a Content-MD5 that OSS checks against the body, and the
// metadata as x-oss-meta-* headers. The SDK also compares the CRC64 OSS
// computed with its own.
func (s *OSS) Put(ctx context.Context, key string, data []byte, o PutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	b, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := md5.Sum(data)
	opts := []oss.Option{
		oss.WithContext(ctx),
		oss.ContentType(ct),
		oss.CacheControl(CacheControl),
		oss.ContentMD5(base64.StdEncoding.EncodeToString(sum[:])),
	}
	names := make([]string, 0, len(o.Meta))
	for k := range o.Meta {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		opts = append(opts, oss.Meta(strings.ToLower(k), o.Meta[k]))
	}
	if err := b.PutObject(key, bytes.NewReader(data), opts...); err != nil {
		return s.fail(ctx, "write", key, err)
	}
	return nil
}

// Stat describes the object under key (a HEAD request), or returns
// ErrNotFound. Stat, Get and Delete take any name OSS allows
// (CheckObjectName): inbox objects are named by whoever uploaded them.
func (s *OSS) Stat(ctx context.Context, key string) (Object, error) {
	if err := checkObjectName(key); err != nil {
		return Object{}, err
	}
	b, err := s.bucket(ctx)
	if err != nil {
		return Object{}, err
	}
	h, err := b.GetObjectDetailedMeta(key, oss.WithContext(ctx))
	if err != nil {
		return Object{}, s.fail(ctx, "read", key, err)
	}
	return objectFromHeader(key, h), nil
}

// Get reads the object under key; the SDK's CRC64 check guards the bytes.
func (s *OSS) Get(ctx context.Context, key string) ([]byte, Object, error) {
	if err := checkObjectName(key); err != nil {
		return nil, Object{}, err
	}
	b, err := s.bucket(ctx)
	if err != nil {
		return nil, Object{}, err
	}
	res, err := b.DoGetObject(&oss.GetObjectRequest{ObjectKey: key}, []oss.Option{oss.WithContext(ctx)})
	if err != nil {
		return nil, Object{}, s.fail(ctx, "read", key, err)
	}
	defer res.Response.Close()
	data, err := io.ReadAll(res.Response.Body)
	if err != nil {
		return nil, Object{}, s.fail(ctx, "read", key, err)
	}
	if res.ClientCRC != nil {
		res.Response.ClientCRC = res.ClientCRC.Sum64()
		if err := oss.CheckCRC(res.Response, "GetObject"); err != nil {
			return nil, Object{}, s.fail(ctx, "read", key, err)
		}
	}
	o := objectFromHeader(key, res.Response.Headers)
	o.Size = int64(len(data))
	return data, o, nil
}

// Delete removes the object under key; like OSS, deleting a missing
// object succeeds.
func (s *OSS) Delete(ctx context.Context, key string) error {
	if err := checkObjectName(key); err != nil {
		return err
	}
	b, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	if err := b.DeleteObject(key, oss.WithContext(ctx)); err != nil {
		err = s.fail(ctx, "delete", key, err)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return nil
}

// List is one ListObjectsV2 call: a page of the bucket in key order. Folder
// markers made by the console (keys ending in "/") are left out.
func (s *OSS) List(ctx context.Context, q ListQuery) (Listing, error) {
	b, err := s.bucket(ctx)
	if err != nil {
		return Listing{}, err
	}
	opts := []oss.Option{oss.WithContext(ctx), oss.Prefix(q.Prefix), oss.MaxKeys(q.pageSize())}
	if q.Delimiter != "" {
		opts = append(opts, oss.Delimiter(q.Delimiter))
	}
	if q.Token != "" {
		opts = append(opts, oss.ContinuationToken(q.Token))
	} else if q.StartAfter != "" {
		opts = append(opts, oss.StartAfter(q.StartAfter))
	}
	res, err := b.ListObjectsV2(opts...)
	if err != nil {
		return Listing{}, s.fail(ctx, "list", q.Prefix, err)
	}
	var l Listing
	for _, p := range res.Objects {
		if !strings.HasSuffix(p.Key, "/") {
			l.Objects = append(l.Objects, Object{Key: p.Key, Size: p.Size, Modified: p.LastModified})
		}
	}
	l.Prefixes = res.CommonPrefixes
	if res.IsTruncated {
		l.Next = res.NextContinuationToken
	}
	return l, nil
}

// objectFromHeader reads an Object from a HEAD/GET response.
func objectFromHeader(key string, h http.Header) Object {
	o := Object{Key: key, ContentType: h.Get("Content-Type"), Meta: map[string]string{}}
	o.Size, _ = strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		o.Modified = t
	}
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-meta-") && len(v) > 0 {
			o.Meta[strings.TrimPrefix(lk, "x-oss-meta-")] = v[0]
		}
	}
	return o
}

// fail turns an SDK error into ErrNotFound or a *Error whose message says
// what to fix. The wrapped detail names the OSS code and request id only:
// OSS error bodies can echo the access key id and the string to sign, so
// they are never passed on.
func (s *OSS) fail(ctx context.Context, op, key string, err error) error {
	var se oss.ServiceError
	if errors.As(err, &se) {
		detail := fmt.Errorf("oss %s %q: status %d, code %s, request id %s", op, key, se.StatusCode, se.Code, se.RequestID)
		return s.serviceError(op, key, se, detail)
	}
	var crc oss.CRCCheckError
	if errors.As(err, &crc) {
		return &Error{Status: http.StatusServiceUnavailable, Message: "OSS " + op + " failed its CRC check (the bytes were damaged in transit); try again", Err: fmt.Errorf("oss %s %q: crc mismatch", op, key)}
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return &Error{Status: http.StatusServiceUnavailable, Message: "OSS did not answer in time; try again in a few seconds", Err: fmt.Errorf("oss %s %q: %w", op, key, err)}
	}
	return &Error{Status: http.StatusServiceUnavailable, Message: "OSS could not be reached (check PICBED_OSS_ENDPOINT); try again in a few seconds", Err: fmt.Errorf("oss %s %q: %w", op, key, err)}
}

func (s *OSS) serviceError(op, key string, se oss.ServiceError, detail error) error {
	switch se.Code {
	case "NoSuchKey":
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	case "NoSuchBucket":
		return &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("OSS bucket %q does not exist at this endpoint: check PICBED_OSS_BUCKET and PICBED_OSS_REGION / PICBED_OSS_ENDPOINT", s.cfg.Bucket), Err: detail}
	case "AccessDenied":
		return &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("OSS denied the %s: the function's role needs %s on this bucket and prefix (see deploy/ram-policy.json)", op, ramAction(op)), Err: detail}
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidSecurityToken", "SecurityTokenExpired":
		return &Error{Status: http.StatusBadGateway, Message: "OSS refused picbed's credentials (" + se.Code + "): on Function Compute check the function's role; elsewhere check ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN", Err: detail}
	}
	if se.StatusCode == http.StatusNotFound && se.Code == "" {
		// A HEAD answer without its x-oss-err header.
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests {
		return &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("OSS failed the %s (%d %s); try again in a few seconds", op, se.StatusCode, se.Code), Err: detail}
	}
	return &Error{Status: http.StatusBadGateway, Message: fmt.Sprintf("OSS refused the %s (%d %s)", op, se.StatusCode, se.Code), Err: detail}
}

// ramAction names the RAM action an operation needs.
func ramAction(op string) string {
	switch op {
	case "write":
		return "oss:PutObject"
	case "read":
		return "oss:GetObject"
	case "delete":
		return "oss:DeleteObject"
	case "list":
		return "oss:ListObjects"
	}
	return "access"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
