package fetch

import (
	"net/netip"
	"testing"
)

func TestCheckIP(t *testing.T) {
	tests := []struct {
		addr    string
		refused bool
	}{
		// IPv4, every refused range at its edges, and public neighbours.
		{"0.0.0.0", true},
		{"0.255.255.255", true},
		{"1.0.0.0", false},
		{"9.255.255.255", false},
		{"10.0.0.0", true},
		{"10.255.255.255", true},
		{"11.0.0.0", false},
		{"100.63.255.255", false},
		{"100.64.0.0", true},
		{"100.100.100.200", true}, // Alibaba Cloud metadata
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"126.255.255.255", false},
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"128.0.0.0", false},
		{"169.254.169.254", true}, // AWS/GCP/Azure metadata
		{"169.254.0.0", true},
		{"169.255.0.0", false},
		{"172.15.255.255", false},
		{"172.16.0.0", true},
		{"172.31.255.255", true},
		{"172.32.0.0", false},
		{"192.0.0.0", true},
		{"192.0.0.255", true},
		{"192.0.1.0", false},
		{"192.167.255.255", false},
		{"192.168.0.1", true},
		{"192.168.255.255", true},
		{"192.169.0.0", false},
		{"198.17.255.255", false},
		{"198.18.0.0", true},
		{"198.19.255.255", true},
		{"198.20.0.0", false},
		{"223.255.255.255", false},
		{"224.0.0.1", true},
		{"239.255.255.255", true},
		{"240.0.0.0", true},
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"47.96.0.1", false}, // an Alibaba Cloud public address

		// IPv6 ranges.
		{"::", true},
		{"::1", true},
		{"::2", true},              // IPv4-compatible, deprecated
		{"::8.8.8.8", true},        // IPv4-compatible, deprecated
		{"fc00::1", true},          // unique local
		{"fdff:ffff::1", true},     // unique local
		{"fe80::1", true},          // link-local
		{"febf:ffff::1", true},     // link-local
		{"fec0::1", true},          // site-local
		{"feff::1", true},          // site-local
		{"ff02::1", true},          // multicast
		{"ff00::", true},           // multicast
		{"fbff:ffff::1", false},    // just below fc00::/7
		{"2400:3200::1", false},    // Alibaba public DNS
		{"2001:4860::8888", false}, // Google, outside Teredo 2001::/32
		{"2606:4700::1111", false},
		{"fe80::1%eth0", true},
		{"100::1", true}, // RFC 6666 discard-only
		{"100::ffff:ffff:ffff:ffff", true},
		{"100:0:0:1::", false}, // just past 100::/64
		{"2001:db8::1", true},  // RFC 3849 documentation
		{"2001:db8:ffff::1", true},
		{"2001:db9::1", false},
		{"2001:2::1", true},  // RFC 5180 benchmarking
		{"3fff::1", true},    // RFC 9637 documentation
		{"192.0.2.1", false}, // IPv4 documentation: test hosts, allowed
		{"198.51.100.7", false},
		{"203.0.113.7", false},

		// IPv4-mapped ::ffff:0:0/96, judged by the embedded address.
		{"::ffff:127.0.0.1", true},
		{"::ffff:7f00:1", true},
		{"::ffff:100.100.100.200", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:10.1.2.3", true},
		{"::ffff:8.8.8.8", false},
		// IPv4-translated ::ffff:0:0:0/96.
		{"::ffff:0:127.0.0.1", true},
		{"::ffff:0:8.8.8.8", false},
		// NAT64 64:ff9b::/96.
		{"64:ff9b::127.0.0.1", true},
		{"64:ff9b::100.100.100.200", true},
		{"64:ff9b::a9fe:a9fe", true}, // 169.254.169.254
		{"64:ff9b::8.8.8.8", false},
		// Local-use NAT64 64:ff9b:1::/48: refused whatever it embeds.
		{"64:ff9b:1::8.8.8.8", true},
		{"64:ff9b:1:ffff::1", true},
		{"64:ff9b:2::1", false},
		// 6to4 2002::/16: the IPv4 address is bits 16-47.
		{"2002:7f00:1::1", true},    // 127.0.0.1
		{"2002:6464:64c8::1", true}, // 100.100.100.200
		{"2002:a9fe:a9fe::", true},  // 169.254.169.254
		{"2002:c0a8:101::1", true},  // 192.168.1.1
		{"2002:808:808::1", false},  // 8.8.8.8
		{"2002::1", true},           // 0.0.0.0
		// Teredo 2001::/32: client = last 32 bits XOR 0xffffffff.
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", true},  // client 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:9b9b:9b37", true},  // client 100.100.100.200
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false}, // client 8.8.8.8
		{"2001:0:7f00:1:8000:63bf:f7f7:f7f7", true},     // server 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // RFC 4380 example: client 192.0.2.45
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a, err := netip.ParseAddr(tt.addr)
			if err != nil {
				t.Fatalf("bad test address: %v", err)
			}
			why := CheckIP(a)
			if got := why != ""; got != tt.refused {
				t.Errorf("CheckIP(%s) = %q, want refused=%v", tt.addr, why, tt.refused)
			}
		})
	}
}

func TestCheckIPInvalid(t *testing.T) {
	if why := CheckIP(netip.Addr{}); why == "" {
		t.Error("the zero Addr passed")
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true}, {"::ffff:127.0.0.1", true},
		{"10.0.0.1", false}, {"100.100.100.200", false}, {"::", false}, {"fe80::1", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsLoopback(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
