package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestHelp runs the real binary: help in every spelling lists the commands
// and where configuration lives, and reads no configuration (a bad
// variable does not stop it); an unknown command is exit 2 with the list.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			cmd := exec.Command(binPath, arg)
			cmd.Env = []string{"HOME=" + t.TempDir(), "PICBED_QUALITY=nope"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v, stderr %q", err, stderr.String())
			}
			for _, want := range []string{"main [serve]", "main process FILE", "main doctor", "main help", "PICBED_", "./data/.picbed-token", "s.yaml", "sha256:", "ALIBABA_CLOUD_ACCESS_KEY_ID"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("help lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
	if code, out, _ := run(t, nil, "doctor", "-h"); code != 0 || !strings.Contains(out, "-fc-info") {
		t.Errorf("main doctor -h: exit %d, %q", code, out)
	}
	cmd := exec.Command(binPath, "serv")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), `unknown command "serv"`) || !strings.Contains(stderr.String(), "main doctor") {
		t.Errorf("main serv: %v, stderr %q; want exit 2 naming it, with the command list", err, stderr.String())
	}
}

// TestMakeHelp: `make help` lists every phony target with its `##` comment,
// and a bare `make` builds rather than serving.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("make", "-s", "-C", "..", "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	phony := regexp.MustCompile(`(?m)^\.PHONY:(.*)$`).FindSubmatch(mk)
	if phony == nil {
		t.Fatal("Makefile has no .PHONY line")
	}
	for _, target := range strings.Fields(string(phony[1])) {
		line := regexp.MustCompile(`(?m)^  make ` + regexp.QuoteMeta(target) + ` +\S.*$`)
		if !line.Match(out) {
			t.Errorf("make help does not describe %s (add a `## %s: ...` comment above it):\n%s", target, target, out)
		}
	}
	if !regexp.MustCompile(`(?m)^\.DEFAULT_GOAL := build$`).Match(mk) {
		t.Errorf("a bare make should build (as Go projects' Makefiles do), not serve")
	}
}
