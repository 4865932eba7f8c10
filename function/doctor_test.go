package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"picbed/deploy"
	"picbed/storage/osstest"
	"picbed/tools/localserver"
)

// run runs the built binary with env (PATH kept) and returns its exit
// code, stdout and stderr.
func run(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestConfigMistakeStopsTheStart: a typo is exit 2 naming it and the
// closest known name, and nothing else.
func TestConfigMistakeStopsTheStart(t *testing.T) {
	code, _, stderr := run(t, []string{"PICBED_QUALTY=90", "PICBED_DATA_DIR=" + t.TempDir()})
	if code != 2 || !strings.Contains(stderr, "PICBED_QUALTY: picbed has no such variable; did you mean PICBED_QUALITY?") || strings.Count(stderr, "PICBED_") != 2 {
		t.Errorf("exit %d, stderr %q; want exit 2 naming PICBED_QUALTY and PICBED_QUALITY only", code, stderr)
	}
	code, _, stderr = run(t, []string{"PICBED_STORAGE=oss", "PICBED_OSS_BUCKET=blog", "PICBED_OSS_REGION=cn-hongkong"}, "process", "x.jpg")
	if code != 2 || !strings.Contains(stderr, "ALIBABA_CLOUD_ACCESS_KEY_ID: PICBED_STORAGE=oss outside Function Compute needs") {
		t.Errorf("oss without credentials: exit %d, stderr %q; want a configuration error", code, stderr)
	}
}

func TestDoctorLocal(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PICBED_DATA_DIR=" + dir, "PICBED_LISTEN=127.0.0.1:0"}
	code, out, stderr := run(t, env, "doctor")
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"OK    config:", "OK    data dir:", "OK    token: make run generates one and keeps it in " + filepath.Join(dir, ".picbed-token"), "OK    listen:", "SKIP  cloud:"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = run(t, append(env, "PICBED_QUALTY=90", "PICBED_MAX_WIDTH=wide"), "doctor")
	if code != 1 || !strings.Contains(out, "FAIL  config: PICBED_QUALTY: picbed has no such variable; did you mean PICBED_QUALITY?") || !strings.Contains(out, "FAIL  config: PICBED_MAX_WIDTH:") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestDoctorCloudAndSmoke sets up a fake bucket as make deploy would,
// serves the real binary on OSS storage as the deployed function, and
// runs the real binary's doctor against both: every check passes, and the
// upload through the "function" returns a link that opens anonymously.
// Then it breaks the bucket policy and the token, and doctor says so.
func TestDoctorCloudAndSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary twice")
	}
	cred := osstest.Credential{ID: "LTAI-deployer", Secret: "deployer-secret"}
	oss := osstest.New(cred)
	defer oss.Close()
	c := deploy.NewOSSClient("cn-hongkong", oss.URL, deploy.Credentials{ID: cred.ID, Secret: cred.Secret})
	if err := deploy.SetupBucket(context.Background(), c, "blog", "img/", new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	ossEnv := []string{
		"PICBED_STORAGE=oss", "PICBED_OSS_BUCKET=blog", "PICBED_OSS_REGION=cn-hongkong", "PICBED_OSS_ENDPOINT=" + oss.URL,
		"PICBED_PUBLIC_URL=" + oss.URL + "/blog", "ALIBABA_CLOUD_ACCESS_KEY_ID=" + cred.ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + cred.Secret,
	}
	token := "the-real-token-0123456789"
	sum := sha256.Sum256([]byte(token))
	fn, err := localserver.Start(binPath, t.TempDir(), append(ossEnv, "PICBED_TOKENS=sha256:"+hex.EncodeToString(sum[:]))...)
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Cmd.Process.Kill()
	info, _ := json.Marshal(map[string]any{"picbed": map[string]any{
		"url":      map[string]string{"system_url": fn.URL},
		"triggers": []any{map[string]any{"triggerType": "oss", "triggerConfig": `{"filter":{"key":{"prefix":"inbox/","suffix":""}}}`}},
	}})
	infoFile := filepath.Join(t.TempDir(), "s-info.json")
	os.WriteFile(infoFile, info, 0o644)

	doctor := append(ossEnv, "PICBED_TOKEN="+token)
	code, out, stderr := run(t, doctor, "doctor", "-fc-info", infoFile)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"OK    config:", "OK    public url:", "OK    bucket: blog exists and is private", "OK    bucket policy:", "OK    public link:", "OK    inbox private:", "OK    oss trigger: fires for inbox/", "OK    upload: a 1x1 PNG went through the function; its link opens: " + oss.URL + "/blog/img/"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+stderr, cred.Secret) || strings.Contains(out+stderr, token) {
		t.Errorf("doctor printed a secret:\n%s%s", out, stderr)
	}

	// The token in clear is wrong for the digest, the trigger watches
	// another folder, and someone made the bucket public-read.
	oss.SetBucketState("blog", "public-read", deploy.PublicPolicy("blog", "img/"), false)
	code, out, _ = run(t, append(doctor, "PICBED_TOKEN=not-the-token-0123456789", "PICBED_INBOX_PREFIX=drop/"), "doctor", "-fc-info", infoFile)
	for _, want := range []string{"FAIL  bucket: blog has ACL public-read", "FAIL  inbox private", "FAIL  oss trigger: trigger prefix inbox/ but PICBED_INBOX_PREFIX is drop/", "FAIL  upload: HTTP 401", "sha256sum"} {
		if !strings.Contains(out, want) {
			t.Errorf("broken deployment: doctor lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("exit %d with failures, want 1", code)
	}

	// A function whose role cannot write the bucket: the upload fails
	// and doctor points at the role and its policy.
	oss.SetBucketState("blog", "private", deploy.PublicPolicy("blog", "img/"), false)
	noRole, err := localserver.Start(binPath, t.TempDir(), append(ossEnv, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=not-the-role-secret", "PICBED_TOKENS=sha256:"+hex.EncodeToString(sum[:]))...)
	if err != nil {
		t.Fatal(err)
	}
	defer noRole.Cmd.Process.Kill()
	info, _ = json.Marshal(map[string]any{"picbed": map[string]any{"url": map[string]string{"system_url": noRole.URL},
		"triggers": []any{map[string]any{"triggerType": "oss", "triggerConfig": map[string]any{"filter": map[string]any{"key": map[string]string{"prefix": "inbox/"}}}}}}})
	os.WriteFile(infoFile, info, 0o644)
	code, out, _ = run(t, doctor, "doctor", "-fc-info", infoFile)
	if code != 1 || !strings.Contains(out, "FAIL  upload: HTTP 502") || !strings.Contains(out, "role picbed-fc and its policy picbed-oss") || !strings.Contains(out, "OK    public link:") {
		t.Errorf("function without a working role: exit %d\n%s", code, out)
	}

	// A mainland default domain is named before anything is fetched.
	code, out, _ = run(t, append(ossEnv, "PICBED_PUBLIC_URL=https://blog.oss-cn-hangzhou.aliyuncs.com"), "doctor")
	if code != 1 || !strings.Contains(out, "FAIL  public url: https://blog.oss-cn-hangzhou.aliyuncs.com is a mainland default bucket domain") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestFCWarnsAboutAMainlandDefaultDomain: on FC, links on a mainland
// default bucket domain get a start-up warning naming PublicEndpointForbidden.
func TestFCWarnsAboutAMainlandDefaultDomain(t *testing.T) {
	e := startFC(t, map[string]string{"PICBED_PUBLIC_URL": "https://" + testBucket + ".oss-cn-hangzhou.aliyuncs.com"})
	ev, err := os.ReadFile("../testdata/events/http-healthz.json")
	if err != nil {
		t.Fatal(err)
	}
	e.rt.invoke(t, ev) // the warning is logged before the first invocation is taken
	// ...but reaches e.out through a pipe, maybe after the answer did.
	if out := waitOutput(t, e.out.String, "PublicEndpointForbidden"); !strings.Contains(out, `"level":"WARN"`) {
		t.Errorf("no warning naming PublicEndpointForbidden:\n%s", out)
	}
}

// TestLocal401SaysWhereTheTokenIs: with the token picbed generated, a
// request without it is told where the token is kept.
func TestLocal401SaysWhereTheTokenIs(t *testing.T) {
	srv, err := localserver.Start(binPath, t.TempDir(), "PICBED_TOKENS=") // no token: one is generated
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Cmd.Process.Kill()
	resp, err := http.Post(srv.URL+"/upload", "image/png", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error, Message string }
	json.NewDecoder(resp.Body).Decode(&e)
	if want := filepath.Join(srv.DataDir, ".picbed-token"); resp.StatusCode != 401 || !strings.Contains(e.Message, want) {
		t.Errorf("%d %+v; want 401 naming %s", resp.StatusCode, e, want)
	}
}
