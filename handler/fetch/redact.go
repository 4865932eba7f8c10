package fetch

import "regexp"

// urlInText finds URLs in free text: the scheme, an optional userinfo
// (greedy, so a password holding '@' is taken whole), the host and path,
// and an optional query or fragment.
var urlInText = regexp.MustCompile(`(?i)\b((?:https?|ftp)://)([^\s/?#"'<>]*@)?([^\s?#"'<>]*)([?#][^\s"'<>]*)?`)

// Redact is s with the secrets of every URL in it removed: the userinfo
// (http://user:pass@host) and the query and fragment, where signatures
// and tokens ride (OSS and S3 presigned links). Whatever picbed logs about
// a URL goes through it.
func Redact(s string) string {
	return urlInText.ReplaceAllStringFunc(s, func(u string) string {
		m := urlInText.FindStringSubmatch(u)
		out := m[1]
		if m[2] != "" {
			out += "[redacted]@"
		}
		out += m[3]
		if m[4] != "" {
			out += "?[redacted]"
		}
		return out
	})
}

// StripUserinfo is rawURL with any user name and password replaced: what
// an answer may repeat of a URL a client sent (the query is theirs to see;
// a password is nobody's to read in a proxy's or a CMS's log).
func StripUserinfo(rawURL string) string {
	return urlInText.ReplaceAllStringFunc(rawURL, func(u string) string {
		m := urlInText.FindStringSubmatch(u)
		if m[2] == "" {
			return u
		}
		return m[1] + "[redacted]@" + m[3] + m[4]
	})
}
