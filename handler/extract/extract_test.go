package extract

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func urlsOf(links []Link) []string {
	var out []string
	for _, l := range links {
		out = append(out, l.URL)
	}
	return out
}

func TestExtractImages(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"inline", `![a](https://x.test/a.png)`, []string{"https://x.test/a.png"}},
		{"title double", `![a](https://x.test/a.png "A title")`, []string{"https://x.test/a.png"}},
		{"title single", `![a](https://x.test/a.png 'A')`, []string{"https://x.test/a.png"}},
		{"title parens", `![a](https://x.test/a.png (A))`, []string{"https://x.test/a.png"}},
		{"angle", `![a](<https://x.test/a b.png>)`, []string{"https://x.test/a b.png"}},
		{"angle title", `![a](<https://x.test/a.png> "t")`, []string{"https://x.test/a.png"}},
		{"balanced parens", `![a](https://x.test/a_(1).png)`, []string{"https://x.test/a_(1).png"}},
		{"escaped paren", `![a](https://x.test/a\).png)`, []string{"https://x.test/a).png"}},
		{"entity", `![a](https://x.test/a.png?x=1&amp;y=2)`, []string{"https://x.test/a.png?x=1&y=2"}},
		{"empty alt", `![](https://x.test/a.png)`, []string{"https://x.test/a.png"}},
		{"nested brackets in alt", `![a [b] c](https://x.test/a.png)`, []string{"https://x.test/a.png"}},
		{"linked image", `[![a](https://x.test/a.png)](https://x.test/page)`, []string{"https://x.test/a.png"}},
		{"newline before dest", "![a](\nhttps://x.test/a.png)", []string{"https://x.test/a.png"}},
		{"two on a line", `![a](https://x.test/1.png) and ![b](https://x.test/2.png)`, []string{"https://x.test/1.png", "https://x.test/2.png"}},
		{"plain link is not an image", `[a](https://x.test/a.png)`, nil},
		{"escaped bang", `\![a](https://x.test/a.png)`, nil},
		{"space in bare dest", `![a](https://x.test/a b.png)`, nil},
		{"unclosed", `![a](https://x.test/a.png`, nil},
		{"empty dest", `![a]()`, nil},
		{"code span", "`![a](https://x.test/a.png)`", nil},
		{"double code span", "``![a](https://x.test/a.png) ` ``", nil},
		{"fenced", "```md\n![a](https://x.test/a.png)\n```\n![b](https://x.test/b.png)", []string{"https://x.test/b.png"}},
		{"tilde fence", "~~~\n![a](https://x.test/a.png)\n~~~", nil},
		{"unclosed fence", "```\n![a](https://x.test/a.png)", nil},
		{"unclosed backtick", "` ![a](https://x.test/a.png)", []string{"https://x.test/a.png"}},
		{"reference full", "![a][logo]\n\n[logo]: https://x.test/logo.png", []string{"https://x.test/logo.png"}},
		{"reference collapsed", "![Logo][]\n\n[logo]: https://x.test/logo.png \"t\"", []string{"https://x.test/logo.png"}},
		{"reference shortcut", "![Logo]\n\n[LOGO]: <https://x.test/logo.png>", []string{"https://x.test/logo.png"}},
		{"reference label whitespace", "![a][my   logo]\n\n[My Logo]:   https://x.test/logo.png", []string{"https://x.test/logo.png"}},
		{"reference not used by an image", "[a][logo]\n\n[logo]: https://x.test/page", nil},
		{"first definition wins", "![a][l]\n[l]: https://x.test/1.png\n[l]: https://x.test/2.png", []string{"https://x.test/1.png"}},
		{"definition in code", "![a][l]\n```\n[l]: https://x.test/1.png\n```", nil},
		{"html comment", "<!-- ![a](https://x.test/a.png) -->\n![b](https://x.test/b.png)", []string{"https://x.test/b.png"}},
		{"comment in code", "`<!--` ![a](https://x.test/a.png) `-->`", []string{"https://x.test/a.png"}},
		{"comment and script shown in code", "`<!--` `<script>` <img src=\"https://x.test/a.png\">", []string{"https://x.test/a.png"}},
		{"inline html", `text <img src="https://x.test/a.png" alt="a"> text`, []string{"https://x.test/a.png"}},
		{"inline html in code", "`<img src=\"https://x.test/a.png\">`", nil},
		{"mixed", "![a](https://x.test/1.png)\n<img src='https://x.test/2.png'>\n![b][r]\n\n[r]: https://x.test/3.png",
			[]string{"https://x.test/1.png", "https://x.test/2.png", "https://x.test/3.png"}},
		{"relative and data", "![a](/img/a.png) ![b](data:image/png;base64,AAAA)", []string{"/img/a.png", "data:image/png;base64,AAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := urlsOf(Markdown(tt.doc))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractHTML(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"double", `<img src="https://x.test/a.png">`, []string{"https://x.test/a.png"}},
		{"single", `<img src='https://x.test/a.png'>`, []string{"https://x.test/a.png"}},
		{"unquoted", `<img src=https://x.test/a.png alt=x>`, []string{"https://x.test/a.png"}},
		{"unquoted self-closing", `<img src=https://x.test/a.png />`, []string{"https://x.test/a.png"}},
		{"upper case", `<IMG SRC="https://x.test/a.png">`, []string{"https://x.test/a.png"}},
		{"mixed case", `<Img sRc = "https://x.test/a.png">`, []string{"https://x.test/a.png"}},
		{"spaces around", `<img src="  https://x.test/a.png  ">`, []string{"https://x.test/a.png"}},
		{"entity", `<img src="https://x.test/a.png?a=1&amp;b=2">`, []string{"https://x.test/a.png?a=1&b=2"}},
		{"gt in other attr", `<img alt="a > b" src="https://x.test/a.png">`, []string{"https://x.test/a.png"}},
		{"srcset", `<img srcset="https://x.test/a-1x.png 1x, https://x.test/a-2x.png 2x" src="https://x.test/a.png">`,
			[]string{"https://x.test/a-1x.png", "https://x.test/a-2x.png", "https://x.test/a.png"}},
		{"srcset widths no spaces", `<img srcset="https://x.test/a.png 600w,https://x.test/b.png 1000w">`,
			[]string{"https://x.test/a.png", "https://x.test/b.png"}},
		{"srcset comma in url", `<img srcset="https://x.test/a,b.png 1x">`, []string{"https://x.test/a,b.png"}},
		{"srcset trailing comma", `<img srcset="https://x.test/a.png,">`, []string{"https://x.test/a.png"}},
		{"picture source", `<picture><source srcset="https://x.test/a.webp" type="image/webp"><img src="https://x.test/a.jpg"></picture>`,
			[]string{"https://x.test/a.webp", "https://x.test/a.jpg"}},
		{"lazy", `<img data-src="https://x.test/a.png" src="data:image/gif;base64,R0lG">`, []string{"https://x.test/a.png", "data:image/gif;base64,R0lG"}},
		{"comment", `<!-- <img src="https://x.test/a.png"> -->`, nil},
		{"script", `<script>var s = '<img src="https://x.test/a.png">'</script><img src="https://x.test/b.png">`, []string{"https://x.test/b.png"}},
		{"not img", `<a href="https://x.test/a.png">a</a><imgx src="https://x.test/b.png">`, nil},
		{"video src", `<video src="https://x.test/a.mp4"></video><source src="https://x.test/b.mp4">`, nil},
		{"empty src", `<img src="">`, nil},
		{"no value", `<img src>`, nil},
		{"unclosed quote", `<img src="https://x.test/a.png`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := urlsOf(HTML(tt.doc))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRewriteLinks(t *testing.T) {
	repl := map[string]string{
		"https://x.test/a.png":         "https://cdn.test/img/1.png",
		"https://x.test/a b.png":       "https://cdn.test/img/2.png",
		"https://x.test/a.png?a=1&b=2": "https://cdn.test/img/3.png?v=1&w=2",
	}
	tests := []struct {
		name, doc, want string
		html            bool
	}{
		{"inline keeps title", `![a](https://x.test/a.png "t") tail`, `![a](https://cdn.test/img/1.png "t") tail`, false},
		{"angle", `![a](<https://x.test/a b.png>)`, `![a](<https://cdn.test/img/2.png>)`, false},
		{"reference", "![a][l]\n\n[l]: https://x.test/a.png 'x'", "![a][l]\n\n[l]: https://cdn.test/img/1.png 'x'", false},
		{"unknown kept", `![a](https://x.test/other.png)`, `![a](https://x.test/other.png)`, false},
		{"html entity both ways", `<img src="https://x.test/a.png?a=1&amp;b=2">`, `<img src="https://cdn.test/img/3.png?v=1&amp;w=2">`, true},
		{"srcset", `<img srcset="https://x.test/a.png 1x, https://x.test/b.png 2x">`, `<img srcset="https://cdn.test/img/1.png 1x, https://x.test/b.png 2x">`, true},
		{"unquoted", `<img src=https://x.test/a.png>`, `<img src=https://cdn.test/img/1.png>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links := Markdown(tt.doc)
			if tt.html {
				links = HTML(tt.doc)
			}
			if got := Rewrite(tt.doc, links, repl); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEscapeLinkRoundTrip(t *testing.T) {
	u := `https://cdn.test/a (b) <c> "d" 'e' & f,g\h.png`
	for _, tt := range []struct {
		name, doc string
		html      bool
	}{
		{"markdown", "![a](%s)", false},
		{"angle", "![a](<%s>)", false},
		{"html", `<img src="%s">`, true},
		{"html single", `<img src='%s'>`, true},
		{"html unquoted", `<img src=%s>`, true},
		{"srcset", `<img srcset="%s 2x">`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kind := map[string]Kind{"markdown": KindMarkdown, "angle": KindMarkdownAngle, "html unquoted": KindHTMLUnquoted}[tt.name]
			if tt.html && kind == 0 {
				kind = KindHTML
			}
			doc := strings.Replace(tt.doc, "%s", escapeLink(u, kind), 1)
			var links []Link
			if tt.html {
				links = HTML(doc)
			} else {
				links = Markdown(doc)
			}
			if len(links) != 1 {
				t.Fatalf("%q: found %d links", doc, len(links))
			}
			// The escaped form may percent-encode, never change the target.
			got, _ := pathUnescapeAll(links[0].URL)
			want, _ := pathUnescapeAll(u)
			if got != want {
				t.Errorf("%q parsed back as %q, want %q", doc, got, want)
			}
		})
	}
}

func pathUnescapeAll(s string) (string, error) {
	r := strings.NewReplacer("%20", " ", "%28", "(", "%29", ")", "%3C", "<", "%3E", ">", "%22", `"`, "%27", "'", "%2C", ",", "%5C", `\`)
	return r.Replace(s), nil
}

// checkSpans is the extractor's contract: spans lie inside the input, in
// order, without overlap, and their text is the link as written.
func checkSpans(t *testing.T, doc string, links []Link) {
	t.Helper()
	last := 0
	for _, l := range links {
		if l.Start < last || l.End < l.Start || l.End > len(doc) {
			t.Fatalf("span [%d,%d) out of place (last end %d, len %d)", l.Start, l.End, last, len(doc))
		}
		if doc[l.Start:l.End] != l.Text {
			t.Fatalf("span text %q != Text %q", doc[l.Start:l.End], l.Text)
		}
		if !strings.ContainsAny(l.Text, `\&`) && l.URL != l.Text {
			t.Fatalf("span text %q has nothing to decode but means %q", l.Text, l.URL)
		}
		last = l.End
	}
}

func FuzzExtract(f *testing.F) {
	post := fixture(f, "post.md")
	f.Add(string(post))
	for _, s := range []string{
		`![a](https://x.test/a.png "t")`, `![a](<u>)`, "![a][b]\n[b]: u", `<img src="a" srcset="b 1x, c 2x">`,
		"```\n![a](b)\n```", "``a`b``", `<img src=a>`, `<!--`, `<script>`, `![`, `![]`, `![](`, `<img srcset=",,,">`,
		"![a](b(c(d)))", `\`, `<img src='`, "[a]: <", "![a]\n\n[a]:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		md := Markdown(doc)
		checkSpans(t, doc, md)
		h := HTML(doc)
		checkSpans(t, doc, h)
		repl := map[string]string{}
		for _, l := range append(md, h...) {
			repl[l.URL] = "https://cdn.test/x.png"
		}
		Rewrite(doc, md, repl)
		Rewrite(doc, h, repl)
	})
}

// BenchmarkExtractPost measures extraction over testdata/post.md repeated
// to about 1 MiB, the size of a very long post.
func BenchmarkExtractPost(b *testing.B) {
	post := fixture(b, "post.md")
	doc := strings.Repeat(string(post), (1<<20)/len(post))
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		Markdown(doc)
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
