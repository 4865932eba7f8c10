package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// Report prints one line per check: OK, FAIL with what to do, or SKIP
// with what would enable it.
type Report struct {
	W     io.Writer
	Fails int
}

// OK reports a passed check.
func (r *Report) OK(name, detail string) { fmt.Fprintf(r.W, "OK    %s: %s\n", name, detail) }

// Fail reports a failed check and its fix.
func (r *Report) Fail(name, detail, fix string) {
	r.Fails++
	fmt.Fprintf(r.W, "FAIL  %s: %s\n      fix: %s\n", name, detail, fix)
}

// Skip reports a check that could not run here.
func (r *Report) Skip(name, why string) { fmt.Fprintf(r.W, "SKIP  %s: %s\n", name, why) }

// defaultDomain matches OSS's default bucket domains,
// <bucket>.oss-<region>[-internal].aliyuncs.com.
var defaultDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com$`)

// MainlandDefaultDomain reports whether rawURL is a default bucket domain
// in a Chinese-mainland region. Since 2025-03-20 OSS refuses data requests
// of new accounts there (PublicEndpointForbidden, HTTP 400); public links
// need a custom domain (ICP-filed) or a bucket outside the mainland.
func MainlandDefaultDomain(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	m := defaultDomain.FindStringSubmatch(strings.ToLower(u.Hostname()))
	return m != nil && strings.HasPrefix(m[1], "cn-") && m[1] != "cn-hongkong"
}

// MainlandFix is what to do about a mainland default domain.
const MainlandFix = "bind your ICP-filed domain to the bucket (OSS console -> Bucket -> Domain Names, CNAME) and set PICBED_PUBLIC_URL=https://<that domain>, or deploy in a region outside the mainland (PICBED_REGION=cn-hongkong); README \"Deploy to Function Compute\""

// ProbePNG is a 1x1 PNG of a random colour, so that each probe is a new
// upload rather than a deduplicated one.
func ProbePNG() []byte {
	var c [3]byte
	rand.Read(c[:])
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.NRGBA{c[0], c[1], c[2], 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func randomName() string {
	var b [6]byte
	rand.Read(b[:])
	return "picbed-doctor-" + hex.EncodeToString(b[:])
}

// CheckLink fetches link anonymously, as a reader's browser would, and
// returns "" when it opens as an image shown inline, else what is wrong
// and the fix.
func CheckLink(ctx context.Context, hc *http.Client, link string) (problem, fix string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return fmt.Sprintf("%q is not a URL", link), "check PICBED_PUBLIC_URL"
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Sprintf("GET %s: %v", link, err), "check that PICBED_PUBLIC_URL's host resolves (the CNAME of your domain points at the bucket) and is reachable"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	code := ossCode(body)
	switch {
	case code == "PublicEndpointForbidden":
		return fmt.Sprintf("GET %s: HTTP %d PublicEndpointForbidden: OSS refuses this mainland default domain for new accounts", link, resp.StatusCode), MainlandFix
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("GET %s: HTTP 403 %s: anonymous reads are refused", link, code),
			"run make deploy (deploy/setup turns Block Public Access off for the bucket and sets deploy/bucket-policy.json), or in the OSS console: Bucket -> Permission Control -> Block Public Access off, Bucket Policy from deploy/bucket-policy.json"
	case resp.StatusCode != http.StatusOK:
		return fmt.Sprintf("GET %s: HTTP %d %s", link, resp.StatusCode, code), "check PICBED_PUBLIC_URL: it must be the bucket's domain (or a CDN in front of it) without a path"
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasPrefix(ct, "image/") {
		return fmt.Sprintf("GET %s: Content-Type %q, not an image", link, ct), "PICBED_PUBLIC_URL points at something other than the bucket"
	}
	if d, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); d == "attachment" {
		return fmt.Sprintf("GET %s: served as an attachment (Content-Disposition: attachment): browsers download it instead of showing it", link),
			"OSS's default domains force downloads; bind a custom domain to the bucket and set PICBED_PUBLIC_URL to it"
	}
	return "", ""
}

var errorCodeElement = regexp.MustCompile(`<Code>([A-Za-z]+)</Code>`)

// ossCode is the <Code> of an OSS XML error body, or "".
func ossCode(body []byte) string {
	m := errorCodeElement.FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// Cloud is what the cloud-side checks need.
type Cloud struct {
	OSS          *oss.Client
	HTTP         *http.Client
	Bucket       string
	PublicURL    string // PICBED_PUBLIC_URL, no trailing slash
	PublicPrefix string // the key template's folder, img/
	InboxPrefix  string // PICBED_INBOX_PREFIX, inbox/
}

// Check runs the bucket checks: it exists and is private, its policy is
// picbed's, a probe under the public prefix opens anonymously and inline
// through PublicURL (the probe is deleted afterwards), and the inbox is
// not readable by anyone.
func (c Cloud) Check(ctx context.Context, r *Report) {
	info, err := c.OSS.GetBucketInfo(ctx, &oss.GetBucketInfoRequest{Bucket: oss.Ptr(c.Bucket)})
	if err != nil {
		fix := "check PICBED_OSS_BUCKET and PICBED_OSS_REGION, and your credentials' rights (deploy/deployer-policy.json)"
		if errorCode(err) == "NoSuchBucket" {
			fix = "make deploy creates it (private), or check PICBED_OSS_BUCKET and PICBED_OSS_REGION"
		}
		r.Fail("bucket", fmt.Sprintf("%s: %v", c.Bucket, explain(err)), fix)
		return
	}
	if acl := oss.ToString(info.BucketInfo.ACL); acl != "private" {
		r.Fail("bucket", fmt.Sprintf("%s has ACL %s: everything in it, the inbox included, is public", c.Bucket, acl),
			"make deploy sets it private, or: ossutil api put-bucket-acl --bucket "+c.Bucket+" --acl private")
	} else {
		r.OK("bucket", c.Bucket+" exists and is private")
	}
	want := PublicPolicy(c.Bucket, c.PublicPrefix)
	got, err := c.OSS.GetBucketPolicy(ctx, &oss.GetBucketPolicyRequest{Bucket: oss.Ptr(c.Bucket)})
	switch {
	case err != nil && errorCode(err) == "NoSuchBucketPolicy":
		r.Fail("bucket policy", "none: links will not open", "make deploy sets deploy/bucket-policy.json (public reads of "+c.PublicPrefix+"* only)")
	case err != nil:
		r.Fail("bucket policy", explain(err).Error(), "your credentials need oss:GetBucketPolicy (deploy/deployer-policy.json)")
	case !samePolicy(got.Body, want):
		r.Fail("bucket policy", "differs from deploy/bucket-policy.json", "make deploy sets it; it must allow public reads of "+c.PublicPrefix+"* and nothing else")
	default:
		r.OK("bucket policy", "public reads of "+c.PublicPrefix+"* only")
	}
	if oss.ToBool(info.BucketInfo.BlockPublicAccess) {
		r.Fail("block public access", "on for "+c.Bucket+": OSS ignores the public-read policy, links answer 403", "make deploy turns it off for this bucket (its policy keeps everything but "+c.PublicPrefix+" private)")
	}

	key := c.PublicPrefix + randomName() + ".png"
	if _, err := c.OSS.PutObject(ctx, &oss.PutObjectRequest{Bucket: oss.Ptr(c.Bucket), Key: oss.Ptr(key), Body: bytes.NewReader(ProbePNG()), ContentType: oss.Ptr("image/png")}); err != nil {
		r.Fail("public link", "could not write a probe to "+key+": "+explain(err).Error(), "your credentials need oss:PutObject on the bucket (deploy/deployer-policy.json)")
	} else {
		defer c.OSS.DeleteObject(context.WithoutCancel(ctx), &oss.DeleteObjectRequest{Bucket: oss.Ptr(c.Bucket), Key: oss.Ptr(key)})
		if problem, fix := CheckLink(ctx, c.HTTP, c.PublicURL+"/"+key); problem != "" {
			r.Fail("public link", problem, fix)
		} else {
			r.OK("public link", c.PublicURL+"/"+c.PublicPrefix+"... opens anonymously, inline")
		}
	}

	// A key nobody wrote: OSS answers 404 where anyone may read, 403 where
	// only signed requests may.
	probe := c.PublicURL + "/" + c.InboxPrefix + randomName() + ".png"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, probe, nil)
	resp, err := c.HTTP.Do(req)
	switch {
	case err != nil:
		r.Skip("inbox private", fmt.Sprintf("GET %s: %v", probe, err))
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		r.Fail("inbox private", fmt.Sprintf("anyone can read %s (GET of a missing key answers %d, not 403)", c.InboxPrefix, resp.StatusCode),
			"the bucket's ACL or policy makes more than "+c.PublicPrefix+" public: make deploy resets both")
	default:
		resp.Body.Close()
		r.OK("inbox private", fmt.Sprintf("%s is not public (HTTP %d)", c.InboxPrefix, resp.StatusCode))
	}
}

// Smoke uploads a 1x1 PNG through the deployed function at base with
// token, then opens the returned link anonymously: the whole path of a
// real upload (trigger, token, function role writing the public prefix,
// bucket policy, public domain). It reports one line and says what to fix.
func Smoke(ctx context.Context, hc *http.Client, base, token string, r *Report) {
	const name = "upload"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/upload", bytes.NewReader(ProbePNG()))
	if err != nil {
		r.Fail(name, err.Error(), "check the function URL")
		return
	}
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		r.Fail(name, err.Error(), "check the function URL (s info prints it) and that the deploy finished")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var ans struct {
		URL     string `json:"url"`
		Key     string `json:"key"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	json.Unmarshal(body, &ans)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.Fail(name, fmt.Sprintf("HTTP %d %s: %s", resp.StatusCode, ans.Error, ans.Message),
			"the token you test with (PICBED_TOKEN) must be the one whose digest is in PICBED_TOKENS: printf %s \"$PICBED_TOKEN\" | sha256sum")
		return
	case resp.StatusCode >= 500 && strings.Contains(ans.Message+ans.Error, "OSS"):
		r.Fail(name, fmt.Sprintf("HTTP %d %s: %s", resp.StatusCode, ans.Error, ans.Message),
			"the function's role cannot write the bucket: check role picbed-fc and its policy picbed-oss (deploy/ram-policy.json) and that PICBED_OSS_BUCKET/PICBED_REGION match the bucket; s logs --tail shows the OSS error")
		return
	case resp.StatusCode != http.StatusOK || ans.URL == "":
		r.Fail(name, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body[:min(len(body), 300)]))),
			"s logs --tail shows why the function failed; if it never started, its log names the bad PICBED_* variable")
		return
	}
	if problem, fix := CheckLink(ctx, hc, ans.URL); problem != "" {
		r.Fail(name, "uploaded as "+ans.Key+", but the link does not open: "+problem, fix)
		return
	}
	r.OK(name, "a 1x1 PNG went through the function; its link opens: "+ans.URL)
}
