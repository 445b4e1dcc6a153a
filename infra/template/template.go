// Package template reads CloudFormation templates written in YAML, such as
// Switchboard's template.yaml, into the value a JSON template of the same
// meaning decodes to: map[string]any, []any, string, json.Number, bool and
// nil. The short-form intrinsic function tags (!Ref, !GetAtt, !Sub, ...)
// become their long forms ({"Ref": ...}, {"Fn::GetAtt": [...]}, ...), so the
// result can be checked against a JSON schema and read without knowing YAML.
//
// It is stricter than CloudFormation where strictness finds mistakes: an
// unknown tag, a duplicate key, a key that YAML does not read as a string
// (an unquoted Null, true or 1), an alias or merge key, or an intrinsic
// function with the wrong number of arguments is an error naming its line.
package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LongForms maps each short-form tag to the key of its long form.
var LongForms = map[string]string{
	"!Ref":         "Ref",
	"!Condition":   "Condition",
	"!GetAtt":      "Fn::GetAtt",
	"!Sub":         "Fn::Sub",
	"!Join":        "Fn::Join",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!FindInMap":   "Fn::FindInMap",
	"!ImportValue": "Fn::ImportValue",
	"!Base64":      "Fn::Base64",
	"!Cidr":        "Fn::Cidr",
	"!GetAZs":      "Fn::GetAZs",
}

// shape is what a tag may be applied to.
type shape struct {
	scalar   bool // a scalar (taken as a string)
	sequence bool // a sequence of min..max items
	mapping  bool // a mapping (another function in long form)
	min, max int
}

var shapes = map[string]shape{
	"!Ref":         {scalar: true},
	"!Condition":   {scalar: true},
	"!GetAtt":      {scalar: true, sequence: true, min: 2, max: 2},
	"!Sub":         {scalar: true, sequence: true, min: 2, max: 2}, // [template, {variables}]
	"!Join":        {sequence: true, min: 2, max: 2},
	"!If":          {sequence: true, min: 3, max: 3},
	"!Equals":      {sequence: true, min: 2, max: 2},
	"!Not":         {sequence: true, min: 1, max: 1},
	"!And":         {sequence: true, min: 2, max: 10},
	"!Or":          {sequence: true, min: 2, max: 10},
	"!Select":      {sequence: true, min: 2, max: 2},
	"!Split":       {sequence: true, min: 2, max: 2},
	"!FindInMap":   {sequence: true, min: 3, max: 4}, // the fourth is AWS::LanguageExtensions' DefaultValue
	"!ImportValue": {scalar: true, mapping: true},
	"!Base64":      {scalar: true, mapping: true},
	"!Cidr":        {sequence: true, min: 3, max: 3},
	"!GetAZs":      {scalar: true, mapping: true},
}

// Decode parses a one-document YAML template into its JSON value, with the
// short-form tags in long form.
func Decode(data []byte) (map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("template: more than one YAML document")
	}
	v, err := Convert(&doc)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template: the document is not a mapping")
	}
	return m, nil
}

// Convert turns a YAML node into its JSON value, with the short-form tags in
// long form.
func Convert(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errorAt(n, "empty document")
		}
		return Convert(n.Content[0])
	case yaml.AliasNode:
		return nil, errorAt(n, "alias *%s: write the value out (templates here use no anchors)", n.Value)
	}
	tag := n.ShortTag()
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		return convertFunction(n, tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return convertMapping(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := Convert(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return convertScalar(n, tag)
	}
	return nil, errorAt(n, "unexpected YAML node kind %d", n.Kind)
}

func convertMapping(n *yaml.Node) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			if k.ShortTag() == "!!merge" {
				return nil, errorAt(k, "merge key <<: write the keys out")
			}
			return nil, errorAt(k, "key %q is read as %s, not a string: quote it", k.Value, k.ShortTag())
		}
		if _, dup := out[k.Value]; dup {
			return nil, errorAt(k, "key %q appears twice in one mapping", k.Value)
		}
		val, err := Convert(v)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

func convertScalar(n *yaml.Node, tag string) (any, error) {
	switch tag {
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, errorAt(n, "%v", err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, errorAt(n, "%v", err)
		}
		return json.Number(strconv.FormatInt(i, 10)), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, errorAt(n, "%v", err)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, errorAt(n, "%s is not a JSON number", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	return nil, errorAt(n, "unsupported tag %s", tag)
}

func convertFunction(n *yaml.Node, tag string) (any, error) {
	key, ok := LongForms[tag]
	if !ok {
		return nil, errorAt(n, "unknown tag %s", tag)
	}
	sh := shapes[tag]
	switch n.Kind {
	case yaml.ScalarNode:
		if !sh.scalar {
			return nil, errorAt(n, "%s takes a list, not %q", tag, n.Value)
		}
		if tag == "!GetAtt" {
			// !GetAtt Resource.Attribute; the attribute may itself hold dots
			// (Endpoint.Address), the resource name cannot.
			res, attr, found := strings.Cut(n.Value, ".")
			if !found || res == "" || attr == "" {
				return nil, errorAt(n, "!GetAtt %q is not Resource.Attribute", n.Value)
			}
			return map[string]any{key: []any{res, attr}}, nil
		}
		return map[string]any{key: n.Value}, nil
	case yaml.SequenceNode:
		if !sh.sequence {
			return nil, errorAt(n, "%s takes a single value, not a list", tag)
		}
		if len(n.Content) < sh.min || len(n.Content) > sh.max {
			if sh.min == sh.max {
				return nil, errorAt(n, "%s takes %d arguments, not %d", tag, sh.min, len(n.Content))
			}
			return nil, errorAt(n, "%s takes %d to %d arguments, not %d", tag, sh.min, sh.max, len(n.Content))
		}
		args := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := Convert(c)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		return map[string]any{key: args}, nil
	case yaml.MappingNode:
		if !sh.mapping {
			return nil, errorAt(n, "%s does not take a mapping", tag)
		}
		v, err := convertMapping(n)
		if err != nil {
			return nil, err
		}
		return map[string]any{key: v}, nil
	}
	return nil, errorAt(n, "%s on an unexpected node", tag)
}

func errorAt(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("template: line %d: %s", n.Line, fmt.Sprintf(format, args...))
}
