package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "~\n"} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if diff := cmp.Diff(Default(), got); diff != "" {
			t.Errorf("Parse(%q) differs from Default() (-want +got):\n%s", in, diff)
		}
	}
}

func TestParseOverridesDefaults(t *testing.T) {
	got, err := Parse([]byte(`
node_id: l1-a
s3:
  listen: 127.0.0.1:9100
  max_object_size: 64MiB
  send_timeout: 1m
  domains: [s3.example.test]
  buckets:
    - { name: media, public_read: true }
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.NodeID = "l1-a"
	want.S3.Listen = "127.0.0.1:9100"
	want.S3.MaxObjectSize = 64 * MiB
	want.S3.SendTimeout = Duration(time.Minute)
	want.S3.Domains = []string{"s3.example.test"}
	want.S3.Buckets = []Bucket{{Name: "media", PublicRead: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Every problem is reported at once, each with its key path.
func TestParseReportsEveryProblemWithPath(t *testing.T) {
	_, err := Parse([]byte(`
node_id: "bad id"
s3:
  listne: ":9000"
  max_object_size: lots
  send_timeout: 30
  buckets:
    - { name: a }
    - { name: a, public: true }
admin:
  listen: nowhere
log: { level: loud }
`))
	got := problemPaths(t, err)
	want := []string{
		"s3.listne", "s3.max_object_size", "s3.send_timeout", "s3.buckets[1].public",
		"node_id", "log.level", "admin.listen", "s3.buckets[1].name",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\nfull error:\n%v", diff, err)
	}
	msg := err.Error()
	for _, frag := range []string{`did you mean "listen"`, `"lots" is not a size`, `"30" is not a duration`, "8 problems", "(line 4)"} {
		if !strings.Contains(msg, frag) {
			t.Errorf("error does not mention %q:\n%s", frag, msg)
		}
	}
}

func TestParseRejectsBadYAML(t *testing.T) {
	_, err := Parse([]byte("s3: [unclosed\n"))
	if err == nil || !strings.Contains(err.Error(), "not valid YAML") {
		t.Fatalf("err = %v, want a YAML syntax error", err)
	}
}

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"0", 0, true}, {"1024", 1024, true}, {"64KiB", 64 << 10, true}, {"1 MiB", 1 << 20, true},
		{"10GiB", 10 << 30, true}, {"5TiB", 5 << 40, true}, {"1MB", 1e6, true}, {"7B", 7, true},
		{"-1", 0, false}, {"1.5MiB", 0, false}, {"MiB", 0, false}, {"9999999TiB", 0, false}, {"1XB", 0, false},
	} {
		got, err := ParseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLoadFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "strata.yaml")
	if err := os.WriteFile(path, []byte("s3: {region: \"\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "s3.region") {
		t.Fatalf("err = %v, want it to name %s and s3.region", err, path)
	}
}

// The sample in docs/config.md is a valid configuration.
func TestDocumentedSampleParses(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	sample, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/config.md has no ```yaml sample")
	}
	if _, err := Parse([]byte(sample)); err != nil {
		t.Fatalf("documented sample does not parse: %v", err)
	}
}

// Every key of Config is documented in docs/config.md's key table.
func TestEveryKeyDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(tp reflect.Type, prefix string)
	walk = func(tp reflect.Type, prefix string) {
		for name, i := range yamlFields(tp) {
			f := tp.Field(i)
			path := prefix + name
			ft := f.Type
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
				walk(ft.Elem(), path+"[].")
				continue
			}
			if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) {
				walk(ft, path+".")
				continue
			}
			if !strings.Contains(string(doc), "| `"+path+"` |") {
				t.Errorf("key %s is not in docs/config.md's key table", path)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
}

func TestDomainsDefaultsAndProblems_C06(t *testing.T) {
	cfg, err := Parse([]byte("domains:\n  - {host: a.example.test, origin: http://10.0.0.1:8000/m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Domains[0]; d.Range != "on" || d.SliceSize != MiB {
		t.Errorf("defaults: range %q slice_size %v, want on, 1MiB", d.Range, d.SliceSize)
	}
	// YAML 1.1 reads a bare on/off as a boolean; the range key keeps the word.
	cfg, err = Parse([]byte("domains:\n  - {host: a.test, origin: http://o.test, range: off}\n  - {host: b.test, origin: http://o.test, range: on}\n"))
	if err != nil || cfg.Domains[0].Range != "off" || cfg.Domains[1].Range != "on" {
		t.Errorf("bare on/off: %v, %+v", err, cfg.Domains)
	}
	_, err = Parse([]byte(`
domains:
  - host: a.example.test
    origin: http://b.example.test/
    range: sometimes
    slice_size: 100KiB
    cache_rules: [{path_prefix: static/, extensions: [js]}]
  - host: b.example.test
    origin: ftp://origin
  - host: A.example.test
    origin: ""
`))
	got := problemPaths(t, err)
	want := []string{
		"domains[0].range", "domains[0].slice_size", "domains[0].cache_rules[0].path_prefix",
		"domains[0].cache_rules[0].extensions[0]", "domains[1].origin", "domains[2].host", "domains[2].origin",
		"domains[0].origin", // a.example.test's origin is b.example.test, served here: a loop (C06)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
	if !strings.Contains(err.Error(), "loop") {
		t.Errorf("error does not explain the loop: %v", err)
	}
}

// problemPaths returns the key paths of the problems err reports; err must
// be an *Error.
func problemPaths(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var paths []string
	for _, p := range ce.Problems {
		paths = append(paths, p.Path)
	}
	return paths
}
