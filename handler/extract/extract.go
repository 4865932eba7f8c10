// Package extract finds the image links in a Markdown or HTML document and
// rewrites them, byte for byte everywhere else. It is pure text work (no
// I/O): rehost, the webhook and the CMS connectors call it as
//
//	links := extract.Markdown(doc) // or extract.HTML(doc)
//	out := extract.Rewrite(doc, links, map[string]string{old: new})
package extract

import (
	"html"
	"sort"
	"strings"
)

// Kind is the syntax an image link was written in; it decides how a
// replacement URL must be escaped to sit in the same place.
type Kind int

const (
	KindMarkdown      Kind = iota // ![alt](url "title") or [id]: url
	KindMarkdownAngle             // ![alt](<url>) or [id]: <url>
	KindHTML                      // <img src="url">, quoted attribute or srcset candidate
	KindHTMLUnquoted              // <img src=url>
)

// Link is one image URL found in a document. Text is exactly
// doc[Start:End] as written; URL is what it means (Markdown backslash
// escapes and HTML character references resolved).
type Link struct {
	Start, End int
	Text       string
	URL        string
	Kind       Kind
}

// Bounds that keep extraction linear on hostile input.
const (
	maxAltScan   = 4096 // bytes of alt text scanned for the closing ]
	maxLabelScan = 1000 // CommonMark's label limit
	maxParenNest = 32
)

// Markdown finds every image in a Markdown document, inline HTML
// included: inline images, reference-style definitions used by an image,
// and <img src|srcset>. Images inside code blocks, code spans and HTML
// comments are examples or hidden, not images, and are left alone.
func Markdown(doc string) []Link {
	code := markdownCode(doc)
	code = mergeRanges(append(code, htmlComments(doc, code)...))
	md, refs := markdownImages(doc, code)
	links := append(md, refDefinitions(doc, code, refs)...)
	// Inline HTML is read between code ranges, so that a "<!--" or
	// "<script" shown in code cannot hide the tags after it.
	from := 0
	for _, r := range append(code, [2]int{len(doc), len(doc)}) {
		if r[0] > from {
			for _, l := range htmlLinks(doc[from:r[0]]) {
				l.Start, l.End = l.Start+from, l.End+from
				links = append(links, l)
			}
		}
		from = max(from, r[1])
	}
	return normalizeLinks(links)
}

// HTML finds every image link in an HTML document (see htmlLinks), in
// document order, ready for Rewrite.
func HTML(doc string) []Link { return normalizeLinks(htmlLinks(doc)) }

// htmlLinks finds every <img src>, <img srcset> (and data-src /
// data-srcset, used by lazy loaders) and <source srcset> in an HTML
// document, skipping comments, scripts and styles.
func htmlLinks(doc string) []Link {
	var links []Link
	for i := 0; i < len(doc); {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			break
		}
		i += j
		switch {
		case strings.HasPrefix(doc[i:], "<!--"):
			i = skipPast(doc, i+4, "-->")
			continue
		case strings.HasPrefix(doc[i:], "<![CDATA["):
			i = skipPast(doc, i+9, "]]>")
			continue
		}
		n := i + 1
		for n < len(doc) && isAlnum(doc[n]) {
			n++
		}
		if n == i+1 {
			i++
			continue
		}
		tag := strings.ToLower(doc[i+1 : n])
		end, attrs := parseAttrs(doc, n)
		if tag == "img" || tag == "source" {
			for _, a := range attrs {
				links = append(links, attrLinks(doc, tag, a)...)
			}
		}
		i = end
		if tag == "script" || tag == "style" {
			i = skipPastFold(doc, i, "</"+tag)
		}
	}
	return links
}

// attr is one attribute with a value; vs:ve is the value as written,
// inside its quotes.
type attr struct {
	name     string
	vs, ve   int
	unquoted bool
}

// parseAttrs reads a tag's attributes from i (just after the tag name)
// and returns the index after its closing '>' (or the end of doc).
func parseAttrs(doc string, i int) (int, []attr) {
	var attrs []attr
	for i < len(doc) {
		c := doc[i]
		switch {
		case c == '>':
			return i + 1, attrs
		case isSpace(c) || c == '/':
			i++
			continue
		}
		ns := i
		for i < len(doc) && !isSpace(doc[i]) && doc[i] != '=' && doc[i] != '>' && (doc[i] != '/' || i == ns) {
			i++
		}
		name := strings.ToLower(doc[ns:i])
		k := skipSpaces(doc, i)
		if k >= len(doc) || doc[k] != '=' {
			continue
		}
		k = skipSpaces(doc, k+1)
		if k >= len(doc) {
			return k, attrs
		}
		switch q := doc[k]; q {
		case '"', '\'':
			e := strings.IndexByte(doc[k+1:], q)
			if e < 0 {
				return len(doc), attrs
			}
			attrs = append(attrs, attr{name: name, vs: k + 1, ve: k + 1 + e})
			i = k + 2 + e
		case '>':
			i = k
		default:
			e := k
			for e < len(doc) && !isSpace(doc[e]) && doc[e] != '>' {
				e++
			}
			attrs = append(attrs, attr{name: name, vs: k, ve: e, unquoted: true})
			i = e
		}
	}
	return i, attrs
}

// attrLinks turns an image attribute into links: src is one URL (spaces
// around it trimmed), srcset a list of "url descriptor" candidates.
func attrLinks(doc, tag string, a attr) []Link {
	kind := KindHTML
	if a.unquoted {
		kind = KindHTMLUnquoted
	}
	mk := func(s, e int) Link {
		return Link{Start: s, End: e, Text: doc[s:e], URL: html.UnescapeString(doc[s:e]), Kind: kind}
	}
	switch {
	case tag == "img" && (a.name == "src" || a.name == "data-src"):
		s, e := a.vs, a.ve
		for s < e && isSpace(doc[s]) {
			s++
		}
		for e > s && isSpace(doc[e-1]) {
			e--
		}
		if s == e {
			return nil
		}
		return []Link{mk(s, e)}
	case a.name == "srcset" || a.name == "data-srcset":
		var out []Link
		for _, c := range srcsetURLs(doc[a.vs:a.ve]) {
			out = append(out, mk(a.vs+c[0], a.vs+c[1]))
		}
		return out
	}
	return nil
}

// srcsetURLs splits a srcset value the way the HTML standard parses it:
// candidates separated by commas, each a URL followed by optional
// descriptors (which may hold commas inside parentheses). It returns each
// URL's span.
func srcsetURLs(v string) [][2]int {
	var out [][2]int
	i := 0
	for i < len(v) {
		for i < len(v) && (isSpace(v[i]) || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		s := i
		for i < len(v) && !isSpace(v[i]) {
			i++
		}
		e := i
		if strings.HasSuffix(v[s:e], ",") {
			for e > s && v[e-1] == ',' {
				e--
			}
			if e > s {
				out = append(out, [2]int{s, e})
			}
			continue
		}
		out = append(out, [2]int{s, e})
		depth := 0
		for i < len(v) {
			switch v[i] {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			case ',':
				if depth == 0 {
					goto next
				}
			}
			i++
		}
	next:
	}
	return out
}

// markdownCode lists the byte ranges of fenced code blocks and code spans:
// images written there are examples.
func markdownCode(doc string) [][2]int {
	var out [][2]int
	var fenceChar byte
	fenceLen, fenceStart := 0, 0
	textStart := 0
	for ls := 0; ls < len(doc); {
		le := lineEnd(doc, ls)
		line := doc[ls:le]
		ind := 0
		for ind < len(line) && ind < 4 && line[ind] == ' ' {
			ind++
		}
		if ind < 4 {
			c, n := fence(line[ind:])
			switch {
			case fenceLen == 0 && n > 0:
				out = append(out, codeSpans(doc, textStart, ls)...)
				fenceChar, fenceLen, fenceStart = c, n, ls
			case fenceLen > 0 && c == fenceChar && n >= fenceLen && strings.TrimSpace(line[ind+n:]) == "":
				out = append(out, [2]int{fenceStart, le})
				fenceLen, textStart = 0, le
			}
		}
		ls = le
	}
	if fenceLen > 0 {
		out = append(out, [2]int{fenceStart, len(doc)})
	} else {
		out = append(out, codeSpans(doc, textStart, len(doc))...)
	}
	return out
}

// htmlComments lists the <!-- ... --> ranges of a Markdown document that
// do not start inside code (sorted ranges).
func htmlComments(doc string, code [][2]int) [][2]int {
	var out [][2]int
	for i := 0; i < len(doc); {
		j := strings.Index(doc[i:], "<!--")
		if j < 0 {
			break
		}
		s := i + j
		if inRanges(code, s) {
			i = s + 4
			continue
		}
		i = skipPast(doc, s+4, "-->")
		out = append(out, [2]int{s, i})
	}
	return out
}

// mergeRanges sorts ranges and joins those that overlap, so that lookups
// can binary-search them.
func mergeRanges(rs [][2]int) [][2]int {
	sort.Slice(rs, func(a, b int) bool { return rs[a][0] < rs[b][0] })
	var out [][2]int
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] < out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// fence reports a code fence opening line: ``` or ~~~, three or more.
func fence(line string) (byte, int) {
	if line == "" || (line[0] != '`' && line[0] != '~') {
		return 0, 0
	}
	n := 0
	for n < len(line) && line[n] == line[0] {
		n++
	}
	if n < 3 || (line[0] == '`' && strings.IndexByte(line[n:], '`') >= 0) {
		return 0, 0
	}
	return line[0], n
}

// codeSpans finds `code` spans in doc[s:e]: a backtick run closed by the
// next run of the same length. A run length known to have no closer is
// remembered, so hostile input stays linear.
func codeSpans(doc string, s, e int) [][2]int {
	var out [][2]int
	noCloser := map[int]bool{}
	for i := s; i < e; {
		c := doc[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c != '`' {
			i++
			continue
		}
		n := i
		for n < e && doc[n] == '`' {
			n++
		}
		run := n - i
		if noCloser[run] {
			i = n
			continue
		}
		closed := false
		for k := n; k < e; {
			if doc[k] != '`' {
				k++
				continue
			}
			m := k
			for m < e && doc[m] == '`' {
				m++
			}
			if m-k == run {
				out = append(out, [2]int{i, m})
				i, closed = m, true
				break
			}
			k = m
		}
		if !closed {
			noCloser[run] = true
			i = n
		}
	}
	return out
}

// markdownImages finds inline images ![alt](dest "title") and collects the
// labels of reference images ![alt][label], ![label][] and ![label].
func markdownImages(doc string, code [][2]int) ([]Link, map[string]bool) {
	var links []Link
	refs := map[string]bool{}
	pairs := bracketPairs(doc)
	ci := 0
	for i := 0; i < len(doc); {
		for ci < len(code) && code[ci][1] <= i {
			ci++
		}
		if ci < len(code) && code[ci][0] <= i {
			i = code[ci][1]
			continue
		}
		switch {
		case doc[i] == '\\':
			i += 2
			continue
		case doc[i] != '!' || i+1 >= len(doc) || doc[i+1] != '[':
			i++
			continue
		}
		altEnd, ok := pairs[i+1]
		if !ok || altEnd-i > maxAltScan {
			i += 2
			continue
		}
		k := altEnd + 1
		switch {
		case k < len(doc) && doc[k] == '(':
			if l, end, ok := inlineDest(doc, k+1); ok {
				links = append(links, l)
				i = end
				continue
			}
			refs[normLabel(doc[i+2:altEnd])] = true // ![a](... that is no link may still be ![a]
		case k < len(doc) && doc[k] == '[':
			if le := strings.IndexByte(doc[k+1:min(len(doc), k+1+maxLabelScan)], ']'); le >= 0 {
				label := doc[k+1 : k+1+le]
				if strings.TrimSpace(label) == "" {
					label = doc[i+2 : altEnd]
				}
				refs[normLabel(label)] = true
				i = k + 2 + le
				continue
			}
			refs[normLabel(doc[i+2:altEnd])] = true
		default:
			refs[normLabel(doc[i+2:altEnd])] = true
		}
		i = altEnd + 1
	}
	return links, refs
}

// bracketPairs matches every [ with its ], nested brackets and backslash
// escapes counted, never across a blank line, in one pass (scanning from
// each ![ instead would be quadratic on hostile input).
func bracketPairs(doc string) map[int]int {
	pairs := map[int]int{}
	var stack []int
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '[':
			stack = append(stack, i)
		case ']':
			if n := len(stack); n > 0 {
				pairs[stack[n-1]] = i
				stack = stack[:n-1]
			}
		case '\n':
			if strings.HasPrefix(strings.TrimLeft(doc[i+1:], " \t\r"), "\n") {
				stack = stack[:0]
			}
		}
	}
	return pairs
}

// inlineDest parses "dest 'title')" from i (just after the opening
// parenthesis) and returns the link and the index after ')'.
func inlineDest(doc string, i int) (Link, int, bool) {
	i = skipLinkSpace(doc, i)
	l, i, ok := destination(doc, i, true)
	if !ok {
		return l, 0, false
	}
	j := skipLinkSpace(doc, i)
	if j < len(doc) && doc[j] != ')' && j > i {
		j = skipTitle(doc, j)
		if j < 0 {
			return l, 0, false
		}
		j = skipLinkSpace(doc, j)
	}
	if j >= len(doc) || doc[j] != ')' {
		return l, 0, false
	}
	return l, j + 1, true
}

// destination parses a link destination at i: <...> or a run without
// spaces (with balanced parentheses when inline).
func destination(doc string, i int, inline bool) (Link, int, bool) {
	if i >= len(doc) {
		return Link{}, i, false
	}
	if doc[i] == '<' {
		for j := i + 1; j < len(doc); j++ {
			switch doc[j] {
			case '\\':
				j++
			case '\n', '<':
				return Link{}, i, false
			case '>':
				if j == i+1 {
					return Link{}, i, false
				}
				return mdLink(doc, i+1, j, KindMarkdownAngle), j + 1, true
			}
		}
		return Link{}, i, false
	}
	j, depth := i, 0
loop:
	for j < len(doc) {
		switch c := doc[j]; {
		case c == '\\' && j+1 < len(doc) && isPunct(doc[j+1]):
			j += 2
			continue
		case c <= ' ' || c == 0x7f:
			break loop
		case c == '(' && inline:
			depth++
			if depth > maxParenNest {
				return Link{}, i, false
			}
		case c == ')' && inline:
			if depth == 0 {
				break loop
			}
			depth--
		}
		j++
	}
	if j == i || depth != 0 {
		return Link{}, i, false
	}
	return mdLink(doc, i, j, KindMarkdown), j, true
}

func mdLink(doc string, s, e int, k Kind) Link {
	return Link{Start: s, End: e, Text: doc[s:e], URL: html.UnescapeString(unescapeMarkdown(doc[s:e])), Kind: k}
}

// skipTitle skips a "title", 'title' or (title) at i; -1 when unclosed.
func skipTitle(doc string, i int) int {
	closer := doc[i]
	switch closer {
	case '"', '\'':
	case '(':
		closer = ')'
	default:
		return -1
	}
	for j := i + 1; j < len(doc) && j < i+maxLabelScan; j++ {
		switch doc[j] {
		case '\\':
			j++
		case closer:
			return j + 1
		}
	}
	return -1
}

// skipLinkSpace skips spaces and tabs and at most one line ending.
func skipLinkSpace(doc string, i int) int {
	nl := false
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t':
		case '\n':
			if nl {
				return i
			}
			nl = true
		case '\r':
		default:
			return i
		}
		i++
	}
	return i
}

// refDefinitions finds the definitions "[label]: dest" whose label an
// image uses; the first definition of a label is the one that counts.
func refDefinitions(doc string, code [][2]int, refs map[string]bool) []Link {
	if len(refs) == 0 {
		return nil
	}
	var out []Link
	seen := map[string]bool{}
	for ls := 0; ls < len(doc); {
		le := lineEnd(doc, ls)
		if l, label, ok := refDefinition(doc, ls, le); ok && !inRanges(code, ls) && refs[label] && !seen[label] {
			seen[label] = true
			out = append(out, l)
		}
		ls = le
	}
	return out
}

func refDefinition(doc string, ls, le int) (Link, string, bool) {
	i := ls
	for i < le && i-ls < 3 && doc[i] == ' ' {
		i++
	}
	if i >= le || doc[i] != '[' {
		return Link{}, "", false
	}
	e := strings.IndexByte(doc[i+1:min(le, i+1+maxLabelScan)], ']')
	if e < 0 {
		return Link{}, "", false
	}
	label := doc[i+1 : i+1+e]
	i += e + 2
	if strings.TrimSpace(label) == "" || i >= len(doc) || doc[i] != ':' {
		return Link{}, "", false
	}
	i = skipLinkSpace(doc, i+1)
	l, j, ok := destination(doc, i, false)
	if !ok || (j < len(doc) && !isSpace(doc[j])) {
		return Link{}, "", false
	}
	return l, normLabel(label), true
}

// normLabel matches labels the CommonMark way: case-insensitive, inner
// whitespace collapsed.
func normLabel(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// unescapeMarkdown drops the backslash before ASCII punctuation.
func unescapeMarkdown(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isPunct(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// normalizeLinks sorts links by position and drops any that overlaps an
// earlier one, so that a rewrite can splice them in one pass.
func normalizeLinks(links []Link) []Link {
	sort.SliceStable(links, func(a, b int) bool { return links[a].Start < links[b].Start })
	out := links[:0]
	end := -1
	for _, l := range links {
		if l.Start >= end && l.End > l.Start {
			out = append(out, l)
			end = l.End
		}
	}
	return out
}

// Rewrite replaces each link whose URL has an entry in repl with the
// new URL, escaped for the syntax it sits in; everything else is kept
// byte for byte.
func Rewrite(doc string, links []Link, repl map[string]string) string {
	var b strings.Builder
	last := 0
	for _, l := range links {
		nu, ok := repl[l.URL]
		if !ok || l.Start < last {
			continue
		}
		b.WriteString(doc[last:l.Start])
		b.WriteString(escapeLink(nu, l.Kind))
		last = l.End
	}
	if last == 0 {
		return doc
	}
	b.WriteString(doc[last:])
	return b.String()
}

// escapeLink writes u so it parses back to u in the syntax of kind.
func escapeLink(u string, k Kind) string {
	switch k {
	case KindMarkdown:
		return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\\", "%5C", "\n", "").Replace(u)
	case KindMarkdownAngle:
		return strings.NewReplacer("<", "%3C", ">", "%3E", "\\", "%5C", "\n", "").Replace(u)
	case KindHTMLUnquoted:
		return strings.NewReplacer(" ", "%20", ">", "%3E", "\"", "%22", "'", "%27", "&", "&amp;", "\t", "", "\n", "").Replace(u)
	}
	return strings.NewReplacer(",", "%2C", " ", "%20", "&", "&amp;", "\"", "&quot;", "'", "&#39;", "<", "&lt;", ">", "&gt;").Replace(u)
}

func inRanges(rs [][2]int, i int) bool {
	k := sort.Search(len(rs), func(j int) bool { return rs[j][1] > i })
	return k < len(rs) && rs[k][0] <= i
}

func skipPast(doc string, i int, s string) int {
	if i > len(doc) {
		return len(doc)
	}
	if e := strings.Index(doc[i:], s); e >= 0 {
		return i + e + len(s)
	}
	return len(doc)
}

// skipPastFold finds s (lower-case ASCII) in doc from i, ignoring ASCII
// case, and returns its index (or the end of doc).
func skipPastFold(doc string, i int, s string) int {
	for ; i+len(s) <= len(doc); i++ {
		if strings.EqualFold(doc[i:i+len(s)], s) {
			return i
		}
	}
	return len(doc)
}

func skipSpaces(doc string, i int) int {
	for i < len(doc) && isSpace(doc[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isPunct(c byte) bool { return c > ' ' && c < 0x7f && !isAlnum(c) }

// lineEnd is the index just past the line that starts at ls, its '\n'
// included (len(doc) for the last line).
func lineEnd(doc string, ls int) int {
	if i := strings.IndexByte(doc[ls:], '\n'); i >= 0 {
		return ls + i + 1
	}
	return len(doc)
}
