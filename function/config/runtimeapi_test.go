package config

import (
	"slices"
	"testing"
)

// TestRuntimeAPIIsDeniedToTheFetcher: FC's runtime API address, which
// looks public, reaches the handler's config as a host the fetcher
// refuses; a name is left for the door to resolve.
func TestRuntimeAPIIsDeniedToTheFetcher(t *testing.T) {
	tests := []struct {
		env  string
		deny []string
		name string
	}{
		{"21.0.5.7:9000", []string{"21.0.5.7/32"}, ""},
		{"21.0.5.7", []string{"21.0.5.7/32"}, ""},
		{"[2001:4860::1]:9000", []string{"2001:4860::1/128"}, ""},
		{"[::ffff:21.0.5.7]:9000", []string{"21.0.5.7/32"}, ""},
		{"runtime.fc.internal:9000", nil, "runtime.fc.internal"},
		{"", nil, ""},
	}
	for _, tt := range tests {
		vars := map[string]string{"FC_RUNTIME_API": tt.env, "PICBED_TOKENS": "a-token-of-sixteen-chars", "PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-hangzhou"}
		c, err := Load(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatalf("%q: %v", tt.env, err)
		}
		var got []string
		for _, p := range c.FetchDeny {
			got = append(got, p.String())
		}
		if !slices.Equal(got, tt.deny) || c.RuntimeAPIName != tt.name {
			t.Errorf("FC_RUNTIME_API=%q: deny %v name %q, want %v %q", tt.env, got, c.RuntimeAPIName, tt.deny, tt.name)
		}
		for _, p := range c.FetchDeny {
			if !p.IsSingleIP() || !p.Addr().Is4() && !p.Addr().Is6() || p.Addr() != p.Addr().Unmap() {
				t.Errorf("deny %v is not one plain address", p)
			}
		}
	}
}
