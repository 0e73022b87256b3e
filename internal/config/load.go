package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a configuration, at a key path such as
// "s3.buckets[2].name".
type Problem struct {
	Path string
	Line int // 0 when not known
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", p.Path, p.Line, p.Msg)
	}
	return p.Path + ": " + p.Msg
}

// Error lists every problem found in a configuration.
type Error struct {
	File     string // empty for built-in defaults
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	src := "configuration"
	if e.File != "" {
		src = "config file " + e.File
	}
	if len(e.Problems) == 1 {
		fmt.Fprintf(&b, "%s: %s", src, e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %d problems:", src, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// LoadFile reads the file at path over the defaults and validates it.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data)
	var ce *Error
	if errors.As(err, &ce) {
		ce.File = path
	}
	return cfg, err
}

// Parse decodes data over Default() strictly and validates the result. The
// error, when not nil, is an *Error listing every problem.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	var probs []Problem
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&root); {
	case errors.Is(err, io.EOF):
		// An empty file: defaults.
	case err != nil:
		return nil, &Error{Problems: []Problem{{Path: "(file)", Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	default:
		doc := &root
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			doc = doc.Content[0]
		}
		if !(doc.Kind == yaml.ScalarNode && doc.Tag == "!!null") {
			probs = decodeInto(doc, reflect.ValueOf(cfg).Elem(), "", probs)
		}
	}
	cfg.applyDefaults()
	probs = append(probs, cfg.validate()...)
	if len(probs) > 0 {
		return cfg, &Error{Problems: probs}
	}
	return cfg, nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decodeInto decodes n into v, descending into structs and slices itself so
// that every unknown key and every bad value is reported with its path,
// instead of stopping at the first as yaml.v3's strict mode does.
func decodeInto(n *yaml.Node, v reflect.Value, path string, probs []Problem) []Problem {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) || (v.Kind() != reflect.Struct && v.Kind() != reflect.Slice) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			probs = append(probs, Problem{Path: orRoot(path), Line: n.Line, Msg: cleanYAMLError(err)})
		}
		return probs
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return append(probs, Problem{Path: orRoot(path), Line: n.Line, Msg: "expected a mapping of keys to values"})
		}
		fields := yamlFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if seen[k.Value] {
				probs = append(probs, Problem{Path: kp, Line: k.Line, Msg: "key appears twice; keep one"})
				continue
			}
			seen[k.Value] = true
			idx, ok := fields[k.Value]
			if !ok {
				probs = append(probs, Problem{Path: kp, Line: k.Line, Msg: unknownKeyMsg(k.Value, fields)})
				continue
			}
			probs = decodeInto(val, v.Field(idx), kp, probs)
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.Set(reflect.Zero(v.Type()))
			return probs
		}
		if n.Kind != yaml.SequenceNode {
			return append(probs, Problem{Path: orRoot(path), Line: n.Line, Msg: "expected a list"})
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			probs = decodeInto(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i), probs)
		}
		v.Set(s)
	}
	return probs
}

// yamlFields maps a struct's YAML keys to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = i
	}
	return m
}

func unknownKeyMsg(key string, fields map[string]int) string {
	known := make([]string, 0, len(fields))
	best, bestDist := "", 3
	for k := range fields {
		known = append(known, k)
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	sort.Strings(known)
	msg := "unknown key"
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + "; known keys here: " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance, for "did you mean" hints.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		// "line 3: cannot unmarshal !!str `abc` into int" → drop the line
		// prefix (the Problem carries it) and Go type names.
		if _, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
			msg = rest
		}
		msg = strings.NewReplacer("!!str", "text", "!!int", "a number", "!!bool", "true/false", "!!map", "a mapping", "!!seq", "a list").Replace(msg)
		if i := strings.Index(msg, " into "); i >= 0 {
			msg = msg[:i] + " here"
		}
		return msg
	}
	return err.Error()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
