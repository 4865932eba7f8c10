package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"picbed/deploy"
	"picbed/function/config"
	"picbed/handler/keys"
)

// sFile is the part of s.yaml the code depends on.
type sFile struct {
	Edition   string            `yaml:"edition"`
	Vars      map[string]string `yaml:"vars"`
	Resources map[string]struct {
		Component string `yaml:"component"`
		Props     struct {
			Runtime           string            `yaml:"runtime"`
			Handler           string            `yaml:"handler"`
			Code              string            `yaml:"code"`
			Timeout           int               `yaml:"timeout"`
			MemorySize        int               `yaml:"memorySize"`
			CPU               float64           `yaml:"cpu"`
			Role              string            `yaml:"role"`
			LogConfig         string            `yaml:"logConfig"`
			Env               map[string]string `yaml:"environmentVariables"`
			AsyncInvokeConfig struct {
				MaxAsyncRetryAttempts *int `yaml:"maxAsyncRetryAttempts"`
			} `yaml:"asyncInvokeConfig"`
			Triggers []struct {
				Type           string `yaml:"triggerType"`
				InvocationRole string `yaml:"invocationRole"`
				Config         struct {
					AuthType string   `yaml:"authType"`
					Methods  []string `yaml:"methods"`
					Events   []string `yaml:"events"`
					Filter   struct {
						Key struct {
							Prefix string `yaml:"prefix"`
						} `yaml:"key"`
					} `yaml:"filter"`
				} `yaml:"triggerConfig"`
			} `yaml:"triggers"`
		} `yaml:"props"`
	} `yaml:"resources"`
}

var varRef = regexp.MustCompile(`\$\{vars\.([a-z]+)\}`)
var envRef = regexp.MustCompile(`\$\{env\('([A-Z0-9_]+)'(?:,\s*'([^']*)')?\)\}`)

// resolve expands ${vars.x}, ${config('AccountID')}, the function name
// reference and ${env('X', 'default')} to its default (or a stand-in when
// there is none), as Serverless Devs would with an empty environment plus
// the required secrets.
func resolve(s string, vars map[string]string) string {
	s = varRef.ReplaceAllStringFunc(s, func(m string) string { return vars[varRef.FindStringSubmatch(m)[1]] })
	s = strings.ReplaceAll(s, "${config('AccountID')}", "1234567890123456")
	s = strings.ReplaceAll(s, "${resources.picbed.props.functionName}", "picbed")
	return envRef.ReplaceAllStringFunc(s, func(m string) string {
		sm := envRef.FindStringSubmatch(m)
		switch {
		case strings.Contains(m, ","):
			return sm[2]
		case sm[1] == "PICBED_TOKENS": // what README step 1 exports: a digest
			return "sha256:" + strings.Repeat("5e", 32)
		case sm[1] == "PICBED_OSS_BUCKET":
			return "my-blog-images"
		}
		return "stand-in"
	})
}

func TestSYamlMatchesTheCode(t *testing.T) {
	b, err := os.ReadFile("../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s sFile
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	if s.Edition != "3.0.0" {
		t.Errorf("edition %q, want 3.0.0", s.Edition)
	}
	vars := map[string]string{}
	for k, v := range s.Vars {
		vars[k] = resolve(v, nil)
	}
	fn, ok := s.Resources["picbed"]
	if !ok || fn.Component != "fc3" {
		t.Fatalf("s.yaml has no fc3 resource named picbed")
	}
	p := fn.Props
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	// The handler is the binary the Makefile builds, in the folder deployed.
	if want := "-o " + strings.TrimPrefix(p.Code, "./") + "/" + p.Handler + " ./function"; !strings.Contains(string(mk), want) {
		t.Errorf("handler %q in code %q: the Makefile's build has no %q", p.Handler, p.Code, want)
	}
	if p.Runtime != "go1" || p.Handler != "main" || p.LogConfig != "auto" {
		t.Errorf("runtime %q handler %q logConfig %q, want go1, main, auto", p.Runtime, p.Handler, p.LogConfig)
	}
	if p.MemorySize < 2048 || p.Timeout < 60 || p.CPU < 1 {
		t.Errorf("memory %d MB, cpu %v, timeout %d s: too small for a 48 MP photo", p.MemorySize, p.CPU, p.Timeout)
	}
	if !strings.HasSuffix(p.Role, ":role/"+deploy.FunctionRole) {
		t.Errorf("role %q is not the RAM role %s that make deploy creates: the function must run with its STS credentials", p.Role, deploy.FunctionRole)
	}
	if r := p.AsyncInvokeConfig.MaxAsyncRetryAttempts; r == nil || *r < 1 || *r > 3 {
		t.Errorf("asyncInvokeConfig.maxAsyncRetryAttempts = %v, want a deliberate 1..3", r)
	}

	env := map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "FC_REGION": "cn-hangzhou"}
	for k, v := range p.Env {
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.Contains(strings.ToUpper(k), "ACCESS_KEY") {
			t.Errorf("s.yaml sets %s: no long-lived keys on the function", k)
		}
		if k == "GOMEMLIMIT" {
			if limit := strings.TrimSuffix(v, "MiB"); limit == v || len(limit) == 0 || atoi(limit) >= p.MemorySize {
				t.Errorf("GOMEMLIMIT %q must be in MiB and below memorySize %d", v, p.MemorySize)
			}
			continue
		}
		if !slices.Contains(config.Variables, k) {
			t.Errorf("s.yaml sets %s, which picbed does not read (not in config.Variables)", k)
		}
		if strings.Contains(v, "${env") && !strings.Contains(v, ",") && k != "PICBED_TOKENS" && k != "PICBED_OSS_BUCKET" {
			t.Errorf("%s = %s has no default: every optional secret needs one", k, v)
		}
		env[k] = resolve(v, vars)
	}
	// Every write-back variable can be set at deploy time (README, Write-back).
	for _, k := range []string{"PICBED_GHOST_URL", "PICBED_GHOST_ADMIN_KEY", "PICBED_WP_URL", "PICBED_WP_USER",
		"PICBED_WP_APP_PASSWORD", "PICBED_GIT_API", "PICBED_GIT_TOKEN", "PICBED_GIT_PATHS"} {
		if _, ok := p.Env[k]; !ok {
			t.Errorf("s.yaml does not set %s: the write-back connector cannot be configured on FC", k)
		}
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the environment s.yaml sets does not load:\n%v", err)
	}

	var sawHTTP, sawOSS bool
	for _, tr := range p.Triggers {
		switch tr.Type {
		case "http":
			sawHTTP = true
			if tr.Config.AuthType != "anonymous" {
				t.Errorf("HTTP trigger authType %q, want anonymous (picbed checks its own tokens)", tr.Config.AuthType)
			}
			for _, m := range []string{"GET", "POST", "DELETE", "OPTIONS"} {
				if !slices.Contains(tr.Config.Methods, m) {
					t.Errorf("HTTP trigger lacks method %s", m)
				}
			}
		case "oss":
			sawOSS = true
			if !strings.HasSuffix(tr.InvocationRole, ":role/"+deploy.EventRole) {
				t.Errorf("OSS trigger invocationRole %q, want the role %s that make deploy creates", tr.InvocationRole, deploy.EventRole)
			}
			prefix := resolve(tr.Config.Filter.Key.Prefix, vars)
			if prefix != cfg.InboxPrefix || prefix != "inbox/" {
				t.Errorf("OSS trigger prefix %q, want PICBED_INBOX_PREFIX %q (the default inbox/)", prefix, cfg.InboxPrefix)
			}
			pub := cfg.KeyTemplate.Prefix()
			if pub == "" || strings.HasPrefix(pub, prefix) || strings.HasPrefix(prefix, pub) {
				t.Errorf("OSS trigger prefix %q and key template folder %q overlap: processed images would trigger new events", prefix, pub)
			}
			for _, ev := range []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject", "oss:ObjectCreated:CompleteMultipartUpload"} {
				if !slices.Contains(tr.Config.Events, ev) {
					t.Errorf("OSS trigger lacks %s", ev)
				}
			}
			for _, ev := range tr.Config.Events {
				if !strings.HasPrefix(ev, "oss:ObjectCreated:") {
					t.Errorf("OSS trigger fires on %s; picbed only handles ObjectCreated", ev)
				}
			}
		}
	}
	if !sawHTTP || !sawOSS {
		t.Errorf("triggers: http %v, oss %v; want both", sawHTTP, sawOSS)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1 << 30
	}
	return n
}

// policy is a RAM or bucket policy document.
type policy struct {
	Version   string
	Statement []struct {
		Effect    string
		Action    []string
		Resource  []string
		Principal []string
		Condition map[string]map[string][]string
	}
}

func readPolicy(t *testing.T, name string) policy {
	t.Helper()
	b, err := os.ReadFile("../deploy/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tmpl, err := keys.Parse(keys.Default)
	if err != nil {
		t.Fatal(err)
	}
	pub, inbox := tmpl.Prefix(), "inbox/"
	obj := func(prefix string) string { return "acs:oss:*:*:YOUR_BUCKET/" + prefix + "*" }
	allowed := map[string][]string{ // resource -> actions picbed uses there
		obj(inbox): {"oss:GetObject"},
		obj(pub):   {"oss:PutObject", "oss:GetObject", "oss:DeleteObject"},
		// write-back jobs: the record, and the job object the OSS trigger runs
		obj("picbed-jobs/"):         {"oss:PutObject", "oss:GetObject"},
		obj(inbox + "picbed-jobs/"): {"oss:PutObject", "oss:DeleteObject"},
		"acs:oss:*:*:YOUR_BUCKET":   {"oss:ListObjects"},
	}
	for _, tc := range []struct {
		file        string
		inboxDelete bool
	}{{"ram-policy.json", false}, {"ram-policy-inbox-delete.json", true}} {
		t.Run(tc.file, func(t *testing.T) {
			p := readPolicy(t, tc.file)
			got := map[string][]string{}
			for _, st := range p.Statement {
				if st.Effect != "Allow" {
					continue
				}
				for _, r := range st.Resource {
					got[r] = append(got[r], st.Action...)
					if r == "acs:oss:*:*:YOUR_BUCKET" && !slices.Equal(st.Condition["StringLike"]["oss:Prefix"], []string{pub + "*"}) {
						t.Errorf("listing is not limited to %s*: condition %v", pub, st.Condition)
					}
				}
			}
			for r, want := range allowed {
				if _, ok := got[r]; !ok {
					t.Errorf("policy grants nothing on %s; picbed needs %v there", r, want)
				}
			}
			for r, acts := range got {
				want, ok := allowed[r]
				if tc.inboxDelete && r == obj(inbox) {
					want = append(slices.Clone(want), "oss:DeleteObject")
				}
				if !ok {
					t.Errorf("policy grants %v on %s, which picbed never touches", acts, r)
				}
				for _, a := range acts {
					if !slices.Contains(want, a) {
						t.Errorf("policy grants %s on %s; picbed needs only %v there", a, r, want)
					}
				}
				for _, a := range want {
					if !slices.Contains(acts, a) {
						t.Errorf("policy lacks %s on %s", a, r)
					}
				}
			}
		})
	}

	t.Run("bucket-policy.json", func(t *testing.T) {
		p := readPolicy(t, "bucket-policy.json")
		if len(p.Statement) == 0 {
			t.Errorf("bucket policy has no statement; public reads of %s* are wanted", pub)
		}
		for _, st := range p.Statement {
			if !slices.Equal(st.Action, []string{"oss:GetObject"}) || !slices.Equal(st.Resource, []string{obj(pub)}) {
				t.Errorf("bucket policy allows %v on %v; only public reads of %s* are wanted", st.Action, st.Resource, pub)
			}
		}
	})
}

// resolveTree resolves every string in a YAML tree, as Serverless Devs does
// before handing a component its props.
func resolveTree(v any, vars map[string]string) any {
	switch v := v.(type) {
	case string:
		return resolve(v, vars)
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolveTree(x, vars)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveTree(x, vars)
		}
		return out
	}
	return v
}

// deployFile is a Serverless Devs file read as a generic tree, resolved.
func deployFile(t *testing.T, name string) (resources map[string]any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vars      map[string]string `yaml:"vars"`
		Resources map[string]any    `yaml:"resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	vars := map[string]string{}
	for k, v := range doc.Vars {
		vars[k] = resolve(v, nil)
	}
	// Round-trip through JSON so numbers and maps have the types the
	// schema validator expects.
	j, err := json.Marshal(resolveTree(doc.Resources, vars))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &resources); err != nil {
		t.Fatal(err)
	}
	return resources
}

// TestSYamlValidAgainstComponentSchemas checks every resource's props
// against the JSON Schema its component publishes (deploy/schema), as
// `s deploy` would, without Serverless Devs or a network.
func TestSYamlValidAgainstComponentSchemas(t *testing.T) {
	c := jsonschema.NewCompiler()
	schemas := map[string]*jsonschema.Schema{}
	for _, comp := range []string{"fc3", "fc3-domain"} {
		f, err := os.Open("../deploy/schema/" + comp + ".json")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource(comp+".json", doc); err != nil {
			t.Fatal(err)
		}
		if schemas[comp], err = c.Compile(comp + ".json"); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"../s.yaml", "../deploy/s.http.yaml"} {
		for name, r := range deployFile(t, file) {
			t.Run(strings.TrimPrefix(file, "../")+"/"+name, func(t *testing.T) {
				res := r.(map[string]any)
				s := schemas[res["component"].(string)]
				if s == nil {
					t.Fatalf("component %v has no schema in deploy/schema", res["component"])
				}
				if err := s.Validate(res["props"]); err != nil {
					t.Errorf("props do not match the %v schema:\n%v", res["component"], err)
				}
			})
		}
	}
	// The validator must be able to fail: a protocol fc3-domain does not know.
	bad := deployFile(t, "../s.yaml")["domain"].(map[string]any)["props"].(map[string]any)
	bad["protocol"] = "HTTPX"
	if schemas["fc3-domain"].Validate(bad) == nil {
		t.Errorf("the fc3-domain schema accepted protocol HTTPX")
	}
}

// TestCustomDomainIsHTTPS: the page sends an upload token, so the domain is
// HTTPS with a certificate from the environment; plain HTTP only through
// the opt-in file, which binds the same routes.
func TestCustomDomainIsHTTPS(t *testing.T) {
	props := func(file string) map[string]any {
		d, ok := deployFile(t, file)["domain"].(map[string]any)
		if !ok || d["component"] != "fc3-domain" {
			t.Fatalf("%s has no fc3-domain resource named domain", file)
		}
		return d["props"].(map[string]any)
	}
	https, plain := props("../s.yaml"), props("../deploy/s.http.yaml")
	if https["protocol"] != "HTTP,HTTPS" && https["protocol"] != "HTTPS" {
		t.Errorf("s.yaml domain protocol %v: HTTPS is the default", https["protocol"])
	}
	b, _ := os.ReadFile("../s.yaml")
	for _, v := range []string{"PICBED_CERT", "PICBED_CERT_KEY", "PICBED_DOMAIN"} {
		if !strings.Contains(string(b), "${env('"+v+"'") {
			t.Errorf("s.yaml does not read %s from the environment", v)
		}
	}
	cert, _ := https["certConfig"].(map[string]any)
	if cert == nil || cert["certificate"] == nil || cert["privateKey"] == nil {
		t.Errorf("s.yaml domain has no certConfig with certificate and privateKey: %v", https["certConfig"])
	}
	if plain["protocol"] != "HTTP" || plain["certConfig"] != nil {
		t.Errorf("deploy/s.http.yaml: protocol %v, certConfig %v; want plain HTTP without a certificate", plain["protocol"], plain["certConfig"])
	}
	hr, _ := json.Marshal(https["routeConfig"])
	pr, _ := json.Marshal(plain["routeConfig"])
	if string(hr) != string(pr) {
		t.Errorf("routes differ:\ns.yaml              %s\ndeploy/s.http.yaml  %s", hr, pr)
	}
}

// TestDeployFilesReadKnownVariables: every PICBED_* a deploy file reads
// from the shell is one the binary's unknown-variable check knows, so the
// exports of README step 1 never stop `make run` or `main doctor`.
func TestDeployFilesReadKnownVariables(t *testing.T) {
	known := append(append([]string(nil), config.Variables...), config.DeployVariables...)
	for _, f := range []string{"../s.yaml", "../deploy/s.http.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envRef.FindAllStringSubmatch(string(b), -1) {
			if strings.HasPrefix(m[1], "PICBED_") && !slices.Contains(known, m[1]) {
				t.Errorf("%s reads %s, which is in neither config.Variables nor config.DeployVariables", f, m[1])
			}
		}
	}
}
