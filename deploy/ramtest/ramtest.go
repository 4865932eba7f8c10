// Package ramtest is a fake Alibaba Cloud RAM endpoint for tests: an
// httptest server answering the RPC-style RAM API (version 2015-05-01)
// calls picbed's deploy setup makes (GetRole, CreateRole, GetPolicy,
// CreatePolicy, CreatePolicyVersion, ListPoliciesForRole,
// AttachPolicyToRole), checking every request the way the real endpoint
// does: the documented RPC signature (HMAC-SHA1 over the percent-encoded,
// sorted parameters of query and form), a known AccessKeyId, the STS
// token a temporary key needs, a fresh Timestamp, a SignatureNonce never
// seen before, and well-formed policy documents. Errors are RAM's JSON
// bodies with RAM's codes and statuses.
package ramtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Credential is one key pair the server accepts; a non-empty Token makes
// it an STS credential whose requests must carry SecurityToken.
type Credential struct {
	ID, Secret, Token string
}

// Role is a RAM role as the fake keeps it.
type Role struct {
	Name     string
	Trust    string   // AssumeRolePolicyDocument
	Policies []string // attached, as "Type:Name"
}

type policy struct {
	typ      string
	versions []string // documents, oldest first
	def      int      // index of the default version
}

// Server is the fake RAM endpoint. Call New.
type Server struct {
	*httptest.Server
	// Clock is the server's time, for the Timestamp window.
	Clock func() time.Time

	mu       sync.Mutex
	creds    map[string]Credential
	roles    map[string]*Role // by lower-cased name: RAM names are case-insensitive
	policies map[string]*policy
	nonces   map[string]bool
	calls    []string
}

// New starts a fake RAM accepting cred, holding the system policy
// AliyunFCInvocationAccess as every account does.
func New(cred Credential) *Server {
	s := &Server{Clock: time.Now, creds: map[string]Credential{cred.ID: cred}, roles: map[string]*Role{},
		policies: map[string]*policy{"System:aliyunfcinvocationaccess": {typ: "System", versions: []string{`{"Version":"1","Statement":[{"Action":"fc:InvokeFunction","Resource":"*","Effect":"Allow"}]}`}}},
		nonces:   map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Host is what to give the SDK as the endpoint (with scheme http).
func (s *Server) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// Role returns a copy of the named role.
func (s *Server) Role(name string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[strings.ToLower(name)]
	if !ok {
		return Role{}, false
	}
	c := *r
	c.Policies = append([]string(nil), r.Policies...)
	return c, true
}

// PolicyDocument is the default version of a custom policy.
func (s *Server) PolicyDocument(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies["Custom:"+strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return p.versions[p.def], true
}

// Calls lists the actions answered with success, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

type apiError struct {
	status        int
	code, message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := fmt.Sprintf("F00D%012X", time.Now().UnixNano()&0xffffffffffff)
	answer := func(status int, v map[string]any) {
		v["RequestId"] = reqID
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if err := r.ParseForm(); err != nil { // query and urlencoded body
		answer(400, map[string]any{"Code": "InvalidParameter", "Message": "The request body could not be read."})
		return
	}
	res, e := s.handle(r)
	if e != nil {
		answer(e.status, map[string]any{"Code": e.code, "Message": e.message, "HostId": "ram.aliyuncs.com"})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, r.Form.Get("Action"))
	s.mu.Unlock()
	answer(200, res)
}

// percentEncode is RFC 3986 encoding as the RPC signature defines it.
func percentEncode(v string) string {
	e := url.QueryEscape(v)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// StringToSign is the RPC signature's string for method and params
// (Signature excluded): METHOD&%2F&percentEncode(sorted k=v pairs).
func StringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = percentEncode(k) + "=" + percentEncode(params.Get(k))
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(pairs, "&"))
}

func (s *Server) authenticate(r *http.Request) *apiError {
	p := r.Form
	for _, k := range []string{"AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "SignatureMethod", "SignatureVersion", "Version", "Action", "Format"} {
		if p.Get(k) == "" {
			return &apiError{400, "MissingParameter", "The input parameter \"" + k + "\" that is mandatory for processing this request is not supplied."}
		}
	}
	if p.Get("SignatureMethod") != "HMAC-SHA1" || p.Get("SignatureVersion") != "1.0" {
		return &apiError{400, "InvalidParameter", "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0."}
	}
	s.mu.Lock()
	cred, ok := s.creds[p.Get("AccessKeyId")]
	s.mu.Unlock()
	if !ok {
		return &apiError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	if cred.Token != "" && subtle.ConstantTimeCompare([]byte(p.Get("SecurityToken")), []byte(cred.Token)) != 1 {
		return &apiError{400, "InvalidSecurityToken.Malformed", "The security token you provided is invalid."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p.Get("Timestamp"))
	if err != nil {
		return &apiError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."}
	}
	if d := s.Clock().Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		return &apiError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	toSign := StringToSign(r.Method, p)
	mac := hmac.New(sha1.New, []byte(cred.Secret+"&"))
	mac.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(p.Get("Signature")), []byte(want)) != 1 {
		return &apiError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:" + toSign}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces[p.Get("SignatureNonce")] {
		return &apiError{400, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	s.nonces[p.Get("SignatureNonce")] = true
	return nil
}

// document checks a policy document the way RAM does before storing it.
func document(doc string, trust bool) *apiError {
	var d struct {
		Version   string
		Statement []struct {
			Effect    string
			Action    any
			Principal map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil || d.Version != "1" || len(d.Statement) == 0 {
		return &apiError{400, "MalformedPolicyDocument", "The policy document is malformed."}
	}
	for _, st := range d.Statement {
		if (st.Effect != "Allow" && st.Effect != "Deny") || st.Action == nil || (trust && st.Principal == nil) {
			return &apiError{400, "MalformedPolicyDocument", "The policy document is malformed."}
		}
	}
	return nil
}

func (s *Server) handle(r *http.Request) (map[string]any, *apiError) {
	if e := s.authenticate(r); e != nil {
		return nil, e
	}
	p := r.Form
	if p.Get("Version") != "2015-05-01" {
		return nil, &apiError{400, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	need := func(keys ...string) *apiError {
		for _, k := range keys {
			if p.Get(k) == "" {
				return &apiError{400, "MissingParameter", "The input parameter \"" + k + "\" that is mandatory for processing this request is not supplied."}
			}
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	roleJSON := func(ro *Role) map[string]any {
		return map[string]any{"RoleName": ro.Name, "Arn": "acs:ram::1234567890:role/" + strings.ToLower(ro.Name), "AssumeRolePolicyDocument": ro.Trust, "RoleId": "3000000000000000"}
	}
	role := func() (*Role, *apiError) {
		ro, ok := s.roles[strings.ToLower(p.Get("RoleName"))]
		if !ok {
			return nil, &apiError{404, "EntityNotExist.Role", "The role not exists: " + p.Get("RoleName") + "."}
		}
		return ro, nil
	}
	switch p.Get("Action") {
	case "GetRole":
		if e := need("RoleName"); e != nil {
			return nil, e
		}
		ro, e := role()
		if e != nil {
			return nil, e
		}
		return map[string]any{"Role": roleJSON(ro)}, nil
	case "CreateRole":
		if e := need("RoleName", "AssumeRolePolicyDocument"); e != nil {
			return nil, e
		}
		if _, ok := s.roles[strings.ToLower(p.Get("RoleName"))]; ok {
			return nil, &apiError{409, "EntityAlreadyExists.Role", "The role already exists: " + p.Get("RoleName") + "."}
		}
		if e := document(p.Get("AssumeRolePolicyDocument"), true); e != nil {
			return nil, e
		}
		ro := &Role{Name: p.Get("RoleName"), Trust: p.Get("AssumeRolePolicyDocument")}
		s.roles[strings.ToLower(ro.Name)] = ro
		return map[string]any{"Role": roleJSON(ro)}, nil
	case "GetPolicy":
		if e := need("PolicyName", "PolicyType"); e != nil {
			return nil, e
		}
		po, ok := s.policies[p.Get("PolicyType")+":"+strings.ToLower(p.Get("PolicyName"))]
		if !ok {
			return nil, &apiError{404, "EntityNotExist.Policy", "The policy not exists: " + p.Get("PolicyName") + "."}
		}
		return map[string]any{
			"Policy":               map[string]any{"PolicyName": p.Get("PolicyName"), "PolicyType": po.typ, "DefaultVersion": fmt.Sprintf("v%d", po.def+1)},
			"DefaultPolicyVersion": map[string]any{"VersionId": fmt.Sprintf("v%d", po.def+1), "IsDefaultVersion": true, "PolicyDocument": po.versions[po.def]},
		}, nil
	case "CreatePolicy":
		if e := need("PolicyName", "PolicyDocument"); e != nil {
			return nil, e
		}
		k := "Custom:" + strings.ToLower(p.Get("PolicyName"))
		if _, ok := s.policies[k]; ok {
			return nil, &apiError{409, "EntityAlreadyExists.Policy", "The policy already exists: " + p.Get("PolicyName") + "."}
		}
		if e := document(p.Get("PolicyDocument"), false); e != nil {
			return nil, e
		}
		s.policies[k] = &policy{typ: "Custom", versions: []string{p.Get("PolicyDocument")}}
		return map[string]any{"Policy": map[string]any{"PolicyName": p.Get("PolicyName"), "PolicyType": "Custom", "DefaultVersion": "v1"}}, nil
	case "CreatePolicyVersion":
		if e := need("PolicyName", "PolicyDocument"); e != nil {
			return nil, e
		}
		po, ok := s.policies["Custom:"+strings.ToLower(p.Get("PolicyName"))]
		if !ok {
			return nil, &apiError{404, "EntityNotExist.Policy", "The policy not exists: " + p.Get("PolicyName") + "."}
		}
		if e := document(p.Get("PolicyDocument"), false); e != nil {
			return nil, e
		}
		if len(po.versions) == 5 {
			if p.Get("RotateStrategy") != "DeleteOldestNonDefaultVersionWhenLimitExceeded" {
				return nil, &apiError{409, "LimitExceeded.Policy.Version", "Exceeded the maximum number of versions of the policy."}
			}
			oldest := 0
			if po.def == 0 {
				oldest = 1
			}
			po.versions = append(po.versions[:oldest], po.versions[oldest+1:]...)
			if po.def > oldest {
				po.def--
			}
		}
		po.versions = append(po.versions, p.Get("PolicyDocument"))
		if p.Get("SetAsDefault") == "true" {
			po.def = len(po.versions) - 1
		}
		return map[string]any{"PolicyVersion": map[string]any{"VersionId": fmt.Sprintf("v%d", len(po.versions)), "IsDefaultVersion": p.Get("SetAsDefault") == "true"}}, nil
	case "ListPoliciesForRole":
		if e := need("RoleName"); e != nil {
			return nil, e
		}
		ro, e := role()
		if e != nil {
			return nil, e
		}
		list := []map[string]any{}
		for _, a := range ro.Policies {
			typ, name, _ := strings.Cut(a, ":")
			list = append(list, map[string]any{"PolicyName": name, "PolicyType": typ})
		}
		return map[string]any{"Policies": map[string]any{"Policy": list}}, nil
	case "AttachPolicyToRole":
		if e := need("PolicyType", "PolicyName", "RoleName"); e != nil {
			return nil, e
		}
		ro, e := role()
		if e != nil {
			return nil, e
		}
		if _, ok := s.policies[p.Get("PolicyType")+":"+strings.ToLower(p.Get("PolicyName"))]; !ok {
			return nil, &apiError{404, "EntityNotExist.Policy", "The policy not exists: " + p.Get("PolicyName") + "."}
		}
		a := p.Get("PolicyType") + ":" + p.Get("PolicyName")
		for _, have := range ro.Policies {
			if strings.EqualFold(have, a) {
				return nil, &apiError{409, "EntityAlreadyExists.Role.Policy", "The policy has been attached to the role."}
			}
		}
		ro.Policies = append(ro.Policies, a)
		return map[string]any{}, nil
	}
	return nil, &apiError{400, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
}
