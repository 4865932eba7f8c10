package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
)

// FCInfo is what `s picbed info -o json` says about the deployed function
// that the checks need.
type FCInfo struct {
	URL           string   // the HTTP trigger's public URL (https://...fcapp.run)
	InboxPrefixes []string // the key prefix of each OSS trigger
}

// ParseFCInfo reads the JSON `s picbed info -o json --silent` prints (the fc3
// component's info: url.system_url, triggers[] with triggerType and
// triggerConfig, the latter an object or a JSON string as the FC API has it).
func ParseFCInfo(b []byte) (FCInfo, error) {
	// Without --silent, s prints a root warning and its progress before
	// the JSON: start at the first line that opens an object.
	if i := bytes.Index(b, []byte("\n{")); i >= 0 && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		b = b[i+1:]
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return FCInfo{}, err
	}
	type trigger struct {
		TriggerType   string          `json:"triggerType"`
		TriggerConfig json.RawMessage `json:"triggerConfig"`
	}
	type function struct {
		URL struct {
			SystemURL string `json:"system_url"`
		} `json:"url"`
		Triggers []trigger `json:"triggers"`
	}
	// s wraps each resource's info under its name; accept the bare form too.
	var fn function
	if raw, ok := doc["picbed"]; ok {
		json.Unmarshal(raw, &fn)
	} else {
		json.Unmarshal(b, &fn)
	}
	info := FCInfo{URL: fn.URL.SystemURL}
	for _, t := range fn.Triggers {
		if t.TriggerType != "oss" {
			continue
		}
		cfg := t.TriggerConfig
		var s string
		if json.Unmarshal(cfg, &s) == nil {
			cfg = json.RawMessage(s)
		}
		var c struct {
			Filter struct {
				Key struct {
					Prefix string `json:"prefix"`
				} `json:"key"`
			} `json:"filter"`
		}
		if err := json.Unmarshal(cfg, &c); err != nil {
			return info, errors.New("an OSS trigger's triggerConfig is not JSON")
		}
		info.InboxPrefixes = append(info.InboxPrefixes, c.Filter.Key.Prefix)
	}
	if info.URL == "" && len(info.InboxPrefixes) == 0 {
		return info, errors.New("no url.system_url and no OSS trigger: is this the output of `s picbed info -o json`?")
	}
	info.URL = strings.TrimRight(info.URL, "/")
	return info, nil
}

// Base is where clients reach the function: the custom domain when one is
// bound (PICBED_DOMAIN, over HTTPS unless plain HTTP was chosen), else the
// HTTP trigger's own URL.
func (i FCInfo) Base(domain string, plainHTTP bool) string {
	switch {
	case domain != "" && plainHTTP:
		return "http://" + domain
	case domain != "":
		return "https://" + domain
	}
	return i.URL
}

// CheckTrigger reports whether the deployed OSS trigger fires for
// inboxPrefix, PICBED_INBOX_PREFIX.
func CheckTrigger(info FCInfo, inboxPrefix string, r *Report) {
	switch {
	case len(info.InboxPrefixes) == 0:
		r.Fail("oss trigger", "the deployed function has no OSS trigger: uploads to "+inboxPrefix+" are never processed", "make deploy (s.yaml declares it; the deploying identity needs ram:PassRole on AliyunOSSEventNotificationRole)")
	case len(info.InboxPrefixes) > 1 || info.InboxPrefixes[0] != inboxPrefix:
		r.Fail("oss trigger", "trigger prefix "+strings.Join(info.InboxPrefixes, ", ")+" but PICBED_INBOX_PREFIX is "+inboxPrefix, "keep s.yaml's vars.inbox equal to PICBED_INBOX_PREFIX and make deploy again")
	default:
		r.OK("oss trigger", "fires for "+inboxPrefix)
	}
}

// CheckFunction is the function side of doctor and of the smoke test
// after a deploy: the OSS trigger's prefix, where clients reach the
// function, and, with the token in clear, an upload through it (Smoke).
// getenv supplies PICBED_DOMAIN, PICBED_DOMAIN_HTTP and PICBED_TOKEN.
func CheckFunction(ctx context.Context, info FCInfo, inboxPrefix string, getenv func(string) string, r *Report) {
	CheckTrigger(info, inboxPrefix, r)
	base := info.Base(getenv("PICBED_DOMAIN"), getenv("PICBED_DOMAIN_HTTP") == "1")
	if base == "" {
		r.Fail("upload", "the function has no public HTTP trigger URL", "s.yaml's http trigger must keep disableURLInternet: false")
		return
	}
	r.OK("function url", base+" (clients upload to "+base+"/upload)")
	if tok := getenv("PICBED_TOKEN"); tok == "" {
		r.Skip("upload", "export PICBED_TOKEN=<your token> (the one whose digest is in PICBED_TOKENS) to upload a 1x1 PNG through "+base+": it proves the function's role can write the bucket")
	} else {
		Smoke(ctx, HTTPClient, base, tok, r)
	}
}
