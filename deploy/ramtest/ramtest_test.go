package ramtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var cred = Credential{ID: "LTAI-test", Secret: "test-secret"}

// call signs params by hand, as the RPC signature documentation says, so
// the fake is checked independently of the SDK.
func call(t *testing.T, s *Server, secret string, params map[string]string) (int, map[string]any) {
	t.Helper()
	v := url.Values{
		"Format": {"JSON"}, "Version": {"2015-05-01"}, "AccessKeyId": {cred.ID}, "SignatureMethod": {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"}, "SignatureNonce": {time.Now().Format(time.RFC3339Nano)}, "Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
	}
	for k, x := range params {
		v.Set(k, x)
	}
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(StringToSign("POST", v)))
	if v.Get("Signature") == "" {
		v.Set("Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.Post(s.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestRAMChecksLikeRAM(t *testing.T) {
	s := New(cred)
	defer s.Close()
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
	for _, tc := range []struct {
		name   string
		secret string
		params map[string]string
		status int
		code   string
	}{
		{"missing role", cred.Secret, map[string]string{"Action": "GetRole", "RoleName": "r"}, 404, "EntityNotExist.Role"},
		{"create role", cred.Secret, map[string]string{"Action": "CreateRole", "RoleName": "r", "AssumeRolePolicyDocument": trust}, 200, ""},
		{"create it again", cred.Secret, map[string]string{"Action": "CreateRole", "RoleName": "R", "AssumeRolePolicyDocument": trust}, 409, "EntityAlreadyExists.Role"},
		{"trust without principal", cred.Secret, map[string]string{"Action": "CreateRole", "RoleName": "x", "AssumeRolePolicyDocument": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`}, 400, "MalformedPolicyDocument"},
		{"wrong secret", "nope", map[string]string{"Action": "GetRole", "RoleName": "r"}, 400, "SignatureDoesNotMatch"},
		{"stale timestamp", cred.Secret, map[string]string{"Action": "GetRole", "RoleName": "r", "Timestamp": "2020-01-01T00:00:00Z"}, 400, "InvalidTimeStamp.Expired"},
		{"attach a missing policy", cred.Secret, map[string]string{"Action": "AttachPolicyToRole", "RoleName": "r", "PolicyType": "Custom", "PolicyName": "p"}, 404, "EntityNotExist.Policy"},
		{"attach a system policy", cred.Secret, map[string]string{"Action": "AttachPolicyToRole", "RoleName": "r", "PolicyType": "System", "PolicyName": "AliyunFCInvocationAccess"}, 200, ""},
		{"attach it twice", cred.Secret, map[string]string{"Action": "AttachPolicyToRole", "RoleName": "r", "PolicyType": "System", "PolicyName": "AliyunFCInvocationAccess"}, 409, "EntityAlreadyExists.Role.Policy"},
		{"unknown action", cred.Secret, map[string]string{"Action": "DeleteEverything"}, 400, "InvalidAction.NotFound"},
	} {
		status, body := call(t, s, tc.secret, tc.params)
		if status != tc.status || (tc.code != "" && body["Code"] != tc.code) {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	// A replayed request (same nonce) is refused even with a valid signature.
	v := map[string]string{"Action": "GetRole", "RoleName": "r", "SignatureNonce": "once"}
	if status, _ := call(t, s, cred.Secret, v); status != 200 {
		t.Fatalf("first use of a nonce: %d", status)
	}
	if status, body := call(t, s, cred.Secret, v); status != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Errorf("replay: %d %v", status, body)
	}
}
