// Package deploy holds what a deploy of picbed needs besides s.yaml: the
// RAM and bucket policy documents (embedded from this folder), the
// idempotent bucket setup `make deploy` runs before `s deploy`, and the
// cloud-side checks shared by `main doctor` and the post-deploy smoke test.
// It talks to OSS through the official SDK (signing V1, so storage/osstest
// can check every request) and to the public links over plain HTTP.
package deploy

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

//go:embed *.json
var documents embed.FS

// Document returns the policy document in this folder called name, with
// YOUR_BUCKET replaced by bucket.
func Document(name, bucket string) string {
	b, err := documents.ReadFile(name)
	if err != nil {
		panic("deploy: no document " + name) // a programming error: the names are constants
	}
	return strings.ReplaceAll(string(b), "YOUR_BUCKET", bucket)
}

// The RAM roles s.yaml names: the function runs as FunctionRole, and the
// OSS trigger invokes it as EventRole. deploy/setup creates both.
const (
	FunctionRole = "picbed-fc"
	EventRole    = "AliyunOSSEventNotificationRole"
)

// Credentials are an AccessKey pair, with the STS token when temporary.
type Credentials struct {
	ID, Secret, Token string
}

// NewOSSClient is an OSS client for region; endpoint "" means the
// region's public endpoint. An http:// IP endpoint (a test's fake) is
// addressed path-style.
func NewOSSClient(region, endpoint string, cred Credentials) *oss.Client {
	cfg := oss.LoadDefaultConfig().
		WithRegion(region).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cred.ID, cred.Secret, cred.Token)).
		WithSignatureVersion(oss.SignatureVersionV1).
		WithRetryMaxAttempts(2)
	if endpoint != "" {
		cfg = cfg.WithEndpoint(endpoint).WithUsePathStyle(strings.HasPrefix(endpoint, "http://"))
	}
	return oss.NewClient(cfg)
}

// errorCode is OSS's error code in err, or "".
func errorCode(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// SetupBucket makes bucket what picbed needs, changing only what differs,
// and says what it did on out: created private if missing; ACL private;
// Block Public Access off for this bucket (while on, OSS refuses the
// public policy); the policy that lets anyone read publicPrefix and
// nothing else. No CORS rule is needed: the page and the API share the
// function's origin, and images load through <img>, which CORS does not
// govern.
func SetupBucket(ctx context.Context, c *oss.Client, bucket, publicPrefix string, out io.Writer) error {
	info, err := c.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(bucket)})
	switch {
	case errorCode(err) == "NoSuchBucket":
		if _, err := c.PutBucket(ctx, &oss.PutBucketRequest{Bucket: oss.Ptr(bucket), Acl: oss.BucketACLPrivate}); err != nil {
			return fmt.Errorf("creating bucket %s: %w", bucket, explain(err))
		}
		fmt.Fprintf(out, "created  bucket %s (private)\n", bucket)
		if info, err = c.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(bucket)}); err != nil {
			return fmt.Errorf("reading bucket %s: %w", bucket, explain(err))
		}
	case err != nil:
		return fmt.Errorf("reading bucket %s: %w", bucket, explain(err))
	default:
		fmt.Fprintf(out, "ok       bucket %s exists\n", bucket)
	}
	if acl := oss.ToString(info.BucketInfo.ACL); acl != "private" {
		if _, err := c.PutBucketAcl(ctx, &oss.PutBucketAclRequest{Bucket: oss.Ptr(bucket), Acl: oss.BucketACLPrivate}); err != nil {
			return fmt.Errorf("making bucket %s private: %w", bucket, explain(err))
		}
		fmt.Fprintf(out, "changed  bucket ACL %s -> private (only %s is public, through the policy)\n", acl, publicPrefix)
	}
	if oss.ToBool(info.BucketInfo.BlockPublicAccess) {
		if _, err := c.PutBucketPublicAccessBlock(ctx, &oss.PutBucketPublicAccessBlockRequest{Bucket: oss.Ptr(bucket),
			PublicAccessBlockConfiguration: &oss.PublicAccessBlockConfiguration{BlockPublicAccess: oss.Ptr(false)}}); err != nil {
			return fmt.Errorf("turning off Block Public Access on %s: %w", bucket, explain(err))
		}
		fmt.Fprintf(out, "changed  Block Public Access off for %s (its policy allows public reads of %s only)\n", bucket, publicPrefix)
	}
	want := PublicPolicy(bucket, publicPrefix)
	got, err := c.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(bucket)})
	if err != nil && errorCode(err) != "NoSuchBucketPolicy" {
		return fmt.Errorf("reading the policy of %s: %w", bucket, explain(err))
	}
	if got != nil && samePolicy(got.Body, want) {
		fmt.Fprintf(out, "ok       bucket policy: public reads of %s* only\n", publicPrefix)
		return nil
	}
	if _, err := c.PutBucketPolicy(ctx, &oss.PutBucketPolicyRequest{Bucket: oss.Ptr(bucket), Body: strings.NewReader(want)}); err != nil {
		if errorCode(err) == "AccessDenied" {
			return fmt.Errorf("setting the bucket policy of %s: %w (is Block Public Access on for the whole account? OSS console -> Block Public Access: turn it off for the account, or allow this bucket)", bucket, explain(err))
		}
		return fmt.Errorf("setting the bucket policy of %s: %w", bucket, explain(err))
	}
	fmt.Fprintf(out, "set      bucket policy: public reads of %s* only (deploy/bucket-policy.json)\n", publicPrefix)
	return nil
}

// PublicPolicy is deploy/bucket-policy.json for bucket, with the public
// prefix of the key template (img/ by default).
func PublicPolicy(bucket, publicPrefix string) string {
	return strings.ReplaceAll(Document("bucket-policy.json", bucket), "/img/*", "/"+publicPrefix+"*")
}

// samePolicy compares two policy documents ignoring white space.
func samePolicy(a, b string) bool {
	squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return squash(a) == squash(b)
}

// explain shortens an SDK error to OSS's code and message, which say what
// is wrong (the SDK's own text repeats the request id, host and time).
func explain(err error) error {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return fmt.Errorf("%s (HTTP %d): %s", se.Code, se.StatusCode, se.Message)
	}
	return err
}

// HTTPClient is the client for links and smoke uploads, as a reader's
// browser would fetch them; each request is bounded by the caller's ctx
// and by a minute in any case.
var HTTPClient = &http.Client{Timeout: time.Minute}
