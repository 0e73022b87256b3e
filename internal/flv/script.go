package flv

import (
	"fmt"

	"github.com/bluenviron/gortmplib/pkg/amf0"
)

// Field is one name/value pair of an onMetaData object. Values are
// float64, bool or string, the AMF0 types players read.
type Field struct {
	Name  string
	Value any
}

// Metadata encodes an onMetaData script tag body (E.5): the string
// "onMetaData" and an ECMA array of fields, in order.
func Metadata(fields []Field) ([]byte, error) {
	arr := make(amf0.ECMAArray, 0, len(fields))
	for _, f := range fields {
		arr = append(arr, amf0.ObjectEntry{Key: f.Name, Value: f.Value})
	}
	b, err := amf0.Data{"onMetaData", arr}.Marshal()
	if err != nil {
		return nil, fmt.Errorf("flv: encode onMetaData: %w", err)
	}
	return b, nil
}

// Script is a decoded script data tag.
type Script struct {
	// Name is the handler, e.g. "onMetaData"; an RTMP "@setDataFrame"
	// wrapper is removed.
	Name string
	// Fields holds the first object or ECMA array argument, if any.
	Fields map[string]any
}

// ParseScript decodes a script data body (E.4.4).
func ParseScript(body []byte) (Script, error) {
	d, err := amf0.Unmarshal(body)
	if err != nil {
		return Script{}, fmt.Errorf("flv: script data: %w", err)
	}
	if len(d) > 0 && d[0] == "@setDataFrame" {
		d = d[1:]
	}
	if len(d) == 0 {
		return Script{}, fmt.Errorf("flv: script data: no handler name")
	}
	name, ok := d[0].(string)
	if !ok {
		return Script{}, fmt.Errorf("flv: script data: handler name is a %T, not a string", d[0])
	}
	s := Script{Name: name, Fields: map[string]any{}}
	for _, arg := range d[1:] {
		var obj amf0.Object
		switch o := arg.(type) {
		case amf0.Object:
			obj = o
		case amf0.ECMAArray:
			obj = amf0.Object(o)
		default:
			continue
		}
		for _, e := range obj {
			s.Fields[e.Key] = e.Value
		}
		break
	}
	return s, nil
}
