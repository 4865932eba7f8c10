package fetch

import (
	"net/netip"
)

// blocked is one address range the fetcher never connects to, with the
// reason a client is told.
type blocked struct {
	prefix netip.Prefix
	why    string
}

var blockedV4 = []blocked{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (0.0.0.0/8) address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private (10.0.0.0/8) address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (100.64.0.0/10) address, where cloud metadata services such as 100.100.100.200 live"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback (127.0.0.0/8) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local (169.254.0.0/16) address, where cloud metadata services live"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private (172.16.0.0/12) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol (192.0.0.0/24) address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private (192.168.0.0/16) address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking (198.18.0.0/15) address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast (224.0.0.0/4) address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved or broadcast (240.0.0.0/4) address"},
}

var blockedV6 = []blocked{
	{netip.MustParsePrefix("::/128"), "the unspecified IPv6 address ::"},
	{netip.MustParsePrefix("::1/128"), "the IPv6 loopback address ::1"},
	// ::a.b.c.d, deprecated IPv4-compatible addresses: nothing legitimate
	// uses them, and some stacks route them to the embedded IPv4 address.
	{netip.MustParsePrefix("::/96"), "a deprecated IPv4-compatible IPv6 (::/96) address"},
	// RFC 6666: a discard-only prefix; nothing answers there on purpose.
	{netip.MustParsePrefix("100::/64"), "a discard-only IPv6 (100::/64) address"},
	// RFC 5180 benchmarking, RFC 3849 and RFC 9637 documentation: never
	// on the public internet, so a host there is somebody's private net.
	{netip.MustParsePrefix("2001:2::/48"), "a benchmarking IPv6 (2001:2::/48) address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation IPv6 (2001:db8::/32) address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation IPv6 (3fff::/20) address"},
	// RFC 8215 local-use NAT64: the embedded address sits at an
	// operator-chosen offset, and the prefix is never global.
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 (64:ff9b:1::/48) address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique-local IPv6 (fc00::/7) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local IPv6 (fe80::/10) address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local IPv6 (fec0::/10) address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast IPv6 (ff00::/8) address"},
}

var (
	mapped     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated
	nat64      = netip.MustParsePrefix("64:ff9b::/96")    // RFC 6052 well-known NAT64
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4
	teredo     = netip.MustParsePrefix("2001::/32")       // Teredo
)

// CheckIP tells why the fetcher must not connect to a: a loopback, private,
// link-local, carrier-grade NAT (Alibaba Cloud's metadata service
// 100.100.100.200 lives there), multicast, reserved, discard-only,
// IPv6 documentation or benchmarking, or unspecified address,
// or an IPv6 address that embeds such an IPv4 address (mapped, translated,
// NAT64, 6to4, Teredo). It returns "" when a is a public address. It is a
// pure function so that its table can be tested without a network.
func CheckIP(a netip.Addr) string {
	if !a.IsValid() {
		return "an invalid address"
	}
	a = a.WithZone("")
	if a.Is4() {
		return checkV4(a)
	}
	for _, e := range embedded(a) {
		if why := checkV4(e.addr); why != "" {
			return e.form + " address embedding " + e.addr.String() + ", " + why
		}
	}
	for _, b := range blockedV6 {
		if b.prefix.Contains(a) {
			return b.why
		}
	}
	return ""
}

// IsLoopback reports whether a is 127.0.0.0/8 or ::1 (also in the mapped
// form), the only addresses Options.AllowLoopback lets through.
func IsLoopback(a netip.Addr) bool {
	return a.Unmap().IsLoopback()
}

func checkV4(a netip.Addr) string {
	for _, b := range blockedV4 {
		if b.prefix.Contains(a) {
			return b.why
		}
	}
	return ""
}

type embedding struct {
	form string
	addr netip.Addr
}

// embedded lists the IPv4 addresses an IPv6 address carries, by the forms
// that route to them.
func embedded(a netip.Addr) []embedding {
	b := a.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	var out []embedding
	switch {
	case mapped.Contains(a):
		out = append(out, embedding{"an IPv4-mapped", v4(12)})
	case translated.Contains(a):
		out = append(out, embedding{"an IPv4-translated", v4(12)})
	case nat64.Contains(a):
		out = append(out, embedding{"a NAT64", v4(12)})
	case sixToFour.Contains(a):
		out = append(out, embedding{"a 6to4", v4(2)})
	case teredo.Contains(a):
		client := netip.AddrFrom4([4]byte{b[12] ^ 0xff, b[13] ^ 0xff, b[14] ^ 0xff, b[15] ^ 0xff})
		out = append(out, embedding{"a Teredo", client}, embedding{"a Teredo server", v4(4)})
	}
	return out
}

// denied tells why a is one of the extra refused prefixes (Options.Deny),
// in any of the spellings that reach it: plain, IPv4-mapped, or embedded in
// an IPv6 translation form.
func denied(a netip.Addr, deny []netip.Prefix) string {
	if len(deny) == 0 || !a.IsValid() {
		return ""
	}
	a = a.WithZone("").Unmap()
	forms := []netip.Addr{a}
	for _, e := range embedded(a) {
		forms = append(forms, e.addr)
	}
	for _, f := range forms {
		for _, p := range deny {
			if p.Contains(f) {
				return f.String() + ", an address of the platform picbed runs on"
			}
		}
	}
	return ""
}
