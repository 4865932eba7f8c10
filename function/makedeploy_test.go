package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"picbed/deploy/ramtest"
	"picbed/storage/osstest"
	"picbed/tools/localserver"
)

// TestMakeDeployIsOneCommand runs `make deploy` as README step 3 says,
// after `s config add` and the exports, against fakes of everything in the
// cloud: OSS and RAM (deploy/setup talks to them with the real SDKs), `s`
// (a script that records its arguments and answers `info` with the
// function's URL), and the function itself (the real binary serving on
// OSS storage). It must end with a link that opens, and a second run must
// change nothing.
func TestMakeDeployIsOneCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make deploy")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cred := osstest.Credential{ID: "LTAIdummy", Secret: "dummysecret"} // what testdata/access.yaml holds
	oss := osstest.New(cred)
	defer oss.Close()
	ram := ramtest.New(ramtest.Credential{ID: cred.ID, Secret: cred.Secret})
	defer ram.Close()

	token := "my-upload-token-0123456789"
	sum := sha256.Sum256([]byte(token))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	fn, err := localserver.Start(binPath, t.TempDir(),
		"PICBED_STORAGE=oss", "PICBED_OSS_BUCKET=blog", "PICBED_OSS_REGION=cn-hongkong", "PICBED_OSS_ENDPOINT="+oss.URL,
		"PICBED_PUBLIC_URL="+oss.URL+"/blog", "ALIBABA_CLOUD_ACCESS_KEY_ID="+cred.ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+cred.Secret,
		"PICBED_TOKENS="+digest)
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Cmd.Process.Kill()

	// A stand-in for Serverless Devs: it records what make asks of it.
	home, bin := t.TempDir(), t.TempDir()
	sLog, sInfo := filepath.Join(bin, "s.log"), filepath.Join(bin, "info.json")
	info, _ := json.Marshal(map[string]any{"url": map[string]string{"system_url": fn.URL},
		"triggers": []any{map[string]any{"triggerType": "oss", "triggerConfig": `{"filter":{"key":{"prefix":"inbox/","suffix":""}}}`}}})
	os.WriteFile(sInfo, info, 0o644)
	os.WriteFile(filepath.Join(bin, "s"), []byte("#!/bin/sh\necho \"$*\" >> "+sLog+"\ncase \"$*\" in *'info -o json'*) cat "+sInfo+";; esac\n"), 0o755)
	os.MkdirAll(filepath.Join(home, ".s"), 0o700)
	access, err := os.ReadFile("../deploy/testdata/access.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, ".s", "access.yaml"), access, 0o600)

	goEnv := func(k string) string {
		out, _ := exec.Command("go", "env", k).Output()
		return strings.TrimSpace(string(out))
	}
	env := []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + home,
		"GOCACHE=" + goEnv("GOCACHE"), "GOMODCACHE=" + goEnv("GOMODCACHE"), "GOPATH=" + goEnv("GOPATH"), "GOFLAGS=" + goEnv("GOFLAGS"),
		"GOPROXY=" + goEnv("GOPROXY"), "GOTOOLCHAIN=" + goEnv("GOTOOLCHAIN"),
		"PICBED_S_ACCESS=picbedtest", // s config add -a picbedtest
		"PICBED_REGION=cn-hongkong", "PICBED_OSS_BUCKET=blog", "PICBED_TOKEN=" + token, "PICBED_TOKENS=" + digest,
		"PICBED_SETUP_OSS_ENDPOINT=" + oss.URL, "PICBED_SETUP_RAM_ENDPOINT=" + ram.Host(),
		// never the checkout's dist/s-info.json: a real deploy's is kept there
		"S_INFO=" + filepath.Join(bin, "s-info.json"),
	}
	deployOnce := func() string {
		cmd := exec.Command("make", "-s", "-C", "..", "deploy")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make deploy: %v\n%s", err, out)
		}
		return string(out)
	}
	out := deployOnce()
	for _, want := range []string{
		"created  bucket blog (private)", "set      bucket policy", "created  RAM role picbed-fc", "attached picbed-oss to picbed-fc",
		"created  RAM role AliyunOSSEventNotificationRole", "OK    oss trigger: fires for inbox/", "OK    function url: " + fn.URL,
		"OK    upload: a 1x1 PNG went through the function; its link opens: " + oss.URL + "/blog/img/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("make deploy output lacks %q:\n%s", want, out)
		}
	}
	sRan, _ := os.ReadFile(sLog)
	if got := strings.Split(strings.TrimSpace(string(sRan)), "\n"); !slices.Equal(got, []string{"picbed deploy -y", "picbed info -o json --silent"}) {
		t.Errorf("s was run as %q; want the function deployed (no domain without PICBED_DOMAIN), then asked for its info", got)
	}
	if strings.Contains(out, token) {
		t.Errorf("make deploy printed the token in clear")
	}

	calls := len(ram.Calls())
	out = deployOnce()
	for _, c := range ram.Calls()[calls:] {
		if !strings.HasPrefix(c, "Get") && !strings.HasPrefix(c, "List") {
			t.Errorf("second make deploy called RAM %s", c)
		}
	}
	if strings.Contains(out, "created") || strings.Contains(out, "changed") || !strings.Contains(out, "OK    upload") {
		t.Errorf("second make deploy:\n%s", out)
	}
	if _, _, block, _ := oss.BucketState("blog"); block {
		t.Errorf("Block Public Access still on")
	}
}
