package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"picbed/deploy"
	"picbed/deploy/ramtest"
	"picbed/storage/osstest"
)

// world is a fake Alibaba Cloud: OSS and RAM accepting the key pair that
// `s config add` stored in testdata/access.yaml.
type world struct {
	oss  *osstest.Server
	ram  *ramtest.Server
	home string
	env  map[string]string
}

func newWorld(t *testing.T) *world {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".s"), 0o700)
	b, err := os.ReadFile("../testdata/access.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, ".s", "access.yaml"), b, 0o600)
	w := &world{
		oss:  osstest.New(osstest.Credential{ID: "LTAIdummy", Secret: "dummysecret"}),
		ram:  ramtest.New(ramtest.Credential{ID: "LTAIdummy", Secret: "dummysecret"}),
		home: home,
	}
	t.Cleanup(w.oss.Close)
	t.Cleanup(w.ram.Close)
	w.env = map[string]string{
		"HOME": home, "PICBED_S_ACCESS": "picbedtest",
		"PICBED_REGION": "cn-hongkong", "PICBED_OSS_BUCKET": "blog",
		"PICBED_TOKENS":             "sha256:" + strings.Repeat("ab", 32),
		"PICBED_SETUP_OSS_ENDPOINT": w.oss.URL, "PICBED_SETUP_RAM_ENDPOINT": w.ram.Host(),
	}
	return w
}

func (w *world) run(t *testing.T) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := setup(context.Background(), func(k string) string { return w.env[k] }, &out)
	return out.String(), err
}

func TestSetupFromNothingThenIdempotent(t *testing.T) {
	w := newWorld(t)
	out, err := w.run(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	fn, ok := w.ram.Role(FunctionRole)
	if !ok || !strings.Contains(fn.Trust, "fc.aliyuncs.com") || !slices.Equal(fn.Policies, []string{"Custom:" + FunctionPolicy}) {
		t.Errorf("function role %+v", fn)
	}
	ev, ok := w.ram.Role(EventRole)
	if !ok || !strings.Contains(ev.Trust, "oss.aliyuncs.com") || !slices.Equal(ev.Policies, []string{"System:" + EventPolicy}) {
		t.Errorf("OSS event role %+v", ev)
	}
	doc, _ := w.ram.PolicyDocument(FunctionPolicy)
	if doc != deploy.Document("ram-policy.json", "blog") || strings.Contains(doc, "YOUR_BUCKET") {
		t.Errorf("function policy:\n%s", doc)
	}
	if acl, policy, block, ok := w.oss.BucketState("blog"); !ok || acl != "private" || block || !strings.Contains(policy, "blog/img/*") {
		t.Errorf("bucket: ok %v acl %s block %v policy %s", ok, acl, block, policy)
	}

	calls := len(w.ram.Calls())
	out, err = w.run(t)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	for _, c := range w.ram.Calls()[calls:] {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			t.Errorf("second run called %s: setup is not idempotent\n%s", c, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "ok ") {
			t.Errorf("second run changed something: %q", line)
		}
	}

	// Changing PICBED_INBOX_AFTER updates the policy in place.
	w.env["PICBED_INBOX_AFTER"] = "delete"
	if out, err = w.run(t); err != nil || !strings.Contains(out, "updated  RAM policy picbed-oss") {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc, _ := w.ram.PolicyDocument(FunctionPolicy); doc != deploy.Document("ram-policy-inbox-delete.json", "blog") {
		t.Errorf("policy after INBOX_AFTER=delete:\n%s", doc)
	}
}

func TestSetupWithWrongKeyStopsAtTheSignature(t *testing.T) {
	w := newWorld(t)
	w.env["ALIBABA_CLOUD_ACCESS_KEY_ID"], w.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "LTAIdummy", "not-the-secret"
	out, err := w.run(t)
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("err %v, want OSS's SignatureDoesNotMatch\n%s", err, out)
	}
	// RAM checks the signature too: bucket fine, RAM key wrong.
	w = newWorld(t)
	w.ram.Close()
	w.ram = ramtest.New(ramtest.Credential{ID: "LTAIdummy", Secret: "another"})
	w.env["PICBED_SETUP_RAM_ENDPOINT"] = w.ram.Host()
	if _, err := w.run(t); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("err %v, want RAM's SignatureDoesNotMatch", err)
	}
}

func TestPreflight(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", map[string]string{}, []string{"PICBED_OSS_BUCKET is not set", "PICBED_TOKENS is not set"}},
		{"token in clear", map[string]string{"PICBED_OSS_BUCKET": "b", "PICBED_REGION": "cn-hongkong", "PICBED_TOKENS": "0123456789abcdef0123"}, []string{"in clear", "sha256sum"}},
		{"mainland default domain", map[string]string{"PICBED_OSS_BUCKET": "b", "PICBED_TOKENS": "sha256:00"}, []string{"PublicEndpointForbidden", "ICP-filed domain", "cn-hongkong"}},
		{"domain without certificate", map[string]string{"PICBED_OSS_BUCKET": "b", "PICBED_TOKENS": "sha256:00", "PICBED_PUBLIC_URL": "https://img.example.com", "PICBED_DOMAIN": "up.example.com"}, []string{"PICBED_CERT and PICBED_CERT_KEY", "PICBED_DOMAIN_HTTP=1"}},
		{"domain over http, opted in", map[string]string{"PICBED_OSS_BUCKET": "b", "PICBED_TOKENS": "sha256:00", "PICBED_PUBLIC_URL": "https://img.example.com", "PICBED_DOMAIN": "up.example.com", "PICBED_DOMAIN_HTTP": "1"}, nil},
		{"hong kong, no domain", map[string]string{"PICBED_OSS_BUCKET": "b", "PICBED_TOKENS": "sha256:00", "PICBED_REGION": "cn-hongkong"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readEnv(func(k string) string { return tc.env[k] }).preflight()
			if tc.want == nil && err != nil {
				t.Errorf("refused: %v", err)
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
		})
	}
}

func TestSmokeReadsSInfo(t *testing.T) {
	b, err := os.ReadFile("testdata/s-info.json")
	if err != nil {
		t.Fatal(err)
	}
	info, err := deploy.ParseFCInfo(b)
	if err != nil || info.URL != "https://picbed-abcdefghij.cn-hongkong.fcapp.run" || !slices.Equal(info.InboxPrefixes, []string{"inbox/"}) {
		t.Fatalf("ParseFCInfo = %+v, %v", info, err)
	}
	// What s 3.1.10 really prints without --silent (a component answering
	// info like fc3): the bare object after a warning and progress lines.
	b, err = os.ReadFile("testdata/s-info-noisy.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := deploy.ParseFCInfo(b); err != nil || info.URL != "https://picbed-x.cn-hongkong.fcapp.run" || !slices.Equal(info.InboxPrefixes, []string{"inbox/"}) {
		t.Errorf("ParseFCInfo(noisy) = %+v, %v", info, err)
	}
	// Without a token the upload is skipped with what to export; a
	// trigger on another prefix fails.
	var out bytes.Buffer
	err = smoke(context.Background(), func(k string) string { return map[string]string{"PICBED_INBOX_PREFIX": "drop/"}[k] }, "testdata/s-info.json", &out)
	if err == nil || !strings.Contains(out.String(), "FAIL  oss trigger: trigger prefix inbox/ but PICBED_INBOX_PREFIX is drop/") || !strings.Contains(out.String(), "SKIP  upload: export PICBED_TOKEN") {
		t.Errorf("err %v\n%s", err, out.String())
	}
}
