package osstest

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
)

// bucketState is what OSS keeps about a bucket besides its objects: the
// ACL, the bucket policy and Block Public Access, which together decide
// whether an anonymous GetObject is served.
type bucketState struct {
	acl    string // private | public-read | public-read-write
	policy string // JSON, "" = none
	block  bool   // Block Public Access
}

// BucketState reports a bucket's ACL, policy and Block Public Access, and
// whether it exists.
func (s *Server) BucketState(bucket string) (acl, policy string, blockPublicAccess, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.state[bucket]
	if !ok {
		return "", "", false, false
	}
	return st.acl, st.policy, st.block, true
}

// SetBucketState sets a bucket's ACL, policy and Block Public Access
// directly, as the console would have.
func (s *Server) SetBucketState(bucket, acl, policy string, blockPublicAccess bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state[bucket] = &bucketState{acl: acl, policy: policy, block: blockPublicAccess}
}

// NewBucketsBlockPublicAccess is the Block Public Access state PutBucket
// gives new buckets (on by default, as OSS does for new buckets).
func (s *Server) NewBucketsBlockPublicAccess(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newBlock = on
}

// bucketOp serves the bucket-level APIs picbed's setup and doctor use.
func (s *Server) bucketOp(w http.ResponseWriter, c *call) int {
	s.mu.Lock()
	st, exists := s.state[c.bucket]
	s.mu.Unlock()
	if c.op == "PutBucket" {
		if exists {
			return s.fail(w, c, http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available.")
		}
		acl := c.r.Header.Get("X-Oss-Acl")
		if acl == "" {
			acl = "private"
		}
		if !validACL(acl) {
			return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "no such bucket access control exists")
		}
		s.mu.Lock()
		s.buckets[c.bucket] = map[string]*Object{}
		s.state[c.bucket] = &bucketState{acl: acl, block: s.newBlock}
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	if !exists {
		return s.fail(w, c, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c.op {
	case "GetBucketInfo":
		return writeXML(w, struct {
			XMLName xml.Name `xml:"BucketInfo"`
			Name    string   `xml:"Bucket>Name"`
			Grant   string   `xml:"Bucket>AccessControlList>Grant"`
			Block   bool     `xml:"Bucket>BlockPublicAccess"`
		}{Name: c.bucket, Grant: st.acl, Block: st.block})
	case "GetBucketAcl":
		return writeXML(w, struct {
			XMLName xml.Name `xml:"AccessControlPolicy"`
			Owner   string   `xml:"Owner>ID"`
			Grant   string   `xml:"AccessControlList>Grant"`
		}{Owner: "1234567890", Grant: st.acl})
	case "PutBucketAcl":
		acl := c.r.Header.Get("X-Oss-Acl")
		if !validACL(acl) {
			return s.fail(w, c, http.StatusBadRequest, "InvalidArgument", "no such bucket access control exists")
		}
		if acl != "private" && st.block {
			return s.fail(w, c, http.StatusForbidden, "AccessDenied", "Put public bucket acl is not allowed when block public access is enabled.")
		}
		st.acl = acl
	case "GetBucketPolicy":
		if st.policy == "" {
			return s.fail(w, c, http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist.")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, st.policy)
		return http.StatusOK
	case "PutBucketPolicy":
		p, err := parsePolicy(c.body)
		if err != nil {
			return s.fail(w, c, http.StatusBadRequest, "InvalidPolicyDocument", "The policy document is invalid: "+err.Error())
		}
		for _, stmt := range p.Statement {
			for _, r := range stmt.Resource {
				if r != "acs:oss:*:*:"+c.bucket && !strings.HasPrefix(r, "acs:oss:*:*:"+c.bucket+"/") {
					return s.fail(w, c, http.StatusBadRequest, "InvalidPolicyDocument", "The resource "+r+" is not this bucket or its objects.")
				}
			}
		}
		if st.block && p.public() {
			return s.fail(w, c, http.StatusForbidden, "AccessDenied", "Put public bucket policy is not allowed when block public access is enabled.")
		}
		st.policy = string(c.body)
	case "GetBucketPublicAccessBlock":
		return writeXML(w, publicAccessBlock{Block: st.block})
	case "PutBucketPublicAccessBlock":
		var b publicAccessBlock
		if err := xml.Unmarshal(c.body, &b); err != nil || b.XMLName.Local != "PublicAccessBlockConfiguration" {
			return s.fail(w, c, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
		}
		st.block = b.Block
	default:
		return s.fail(w, c, http.StatusNotImplemented, "NotImplemented", "osstest does not implement "+c.op)
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

type publicAccessBlock struct {
	XMLName xml.Name `xml:"PublicAccessBlockConfiguration"`
	Block   bool     `xml:"BlockPublicAccess"`
}

func validACL(a string) bool {
	return a == "private" || a == "public-read" || a == "public-read-write"
}

func writeXML(w http.ResponseWriter, v any) int {
	b, _ := xml.Marshal(v)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	w.Write(b)
	return http.StatusOK
}

// bucketPolicy is an OSS bucket policy; Principal, Action and Resource
// may each be a string or a list.
type bucketPolicy struct {
	Version   string
	Statement []struct {
		Effect    string
		Principal strList
		Action    strList
		Resource  strList
	}
}

type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

func parsePolicy(b []byte) (*bucketPolicy, error) {
	var p bucketPolicy
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if p.Version != "1" || len(p.Statement) == 0 {
		return nil, errString("Version must be \"1\" with at least one statement")
	}
	for _, st := range p.Statement {
		if (st.Effect != "Allow" && st.Effect != "Deny") || len(st.Action) == 0 || len(st.Resource) == 0 {
			return nil, errString("every statement needs Effect Allow or Deny, an Action and a Resource")
		}
	}
	return &p, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// public reports whether any Allow statement has the anonymous principal.
func (p *bucketPolicy) public() bool {
	for _, st := range p.Statement {
		if st.Effect == "Allow" && slices.Contains(st.Principal, "*") {
			return true
		}
	}
	return false
}

// allowsAnonymous reports whether the policy lets anyone perform action on
// resource: an anonymous Allow matches and no Deny does.
func (p *bucketPolicy) allowsAnonymous(action, resource string) bool {
	match := func(patterns []string, v string) bool {
		for _, pat := range patterns {
			// path.Match's * stops at "/"; OSS's does not.
			if ok, _ := path.Match(strings.ReplaceAll(pat, "/", "\x00"), strings.ReplaceAll(v, "/", "\x00")); ok {
				return true
			}
		}
		return false
	}
	allowed := false
	for _, st := range p.Statement {
		if !slices.Contains(st.Principal, "*") || !match(st.Action, action) || !match(st.Resource, resource) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

// anonymousAllowed is OSS's decision for an unsigned request: Block Public
// Access wins; otherwise a public ACL or an anonymous policy grant.
func (s *Server) anonymousAllowed(c *call) bool {
	if c.op != "GetObject" && c.op != "HeadObject" {
		return false
	}
	s.mu.Lock()
	st, ok := s.state[c.bucket]
	s.mu.Unlock()
	if !ok || st.block {
		return false
	}
	if st.acl == "public-read" || st.acl == "public-read-write" {
		return true
	}
	if st.policy == "" {
		return false
	}
	p, err := parsePolicy([]byte(st.policy))
	return err == nil && p.allowsAnonymous("oss:GetObject", "acs:oss:*:*:"+c.bucket+"/"+c.key)
}
