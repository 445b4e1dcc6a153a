package railwayfake

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Schema builds a gqlparser schema from a GraphQL introspection result
// ({"data":{"__schema":...}} or {"__schema":...}), such as Railway's
// published railway-schema.json.
//
// gqlparser reads schemas only as SDL and has no loader for introspection
// results, and no maintained Go helper for it could be had here
// (Yamashou/gqlgenc's introspection package, which does this, is not on
// the module proxy this project reaches), so the conversion is done here:
// every type, field, argument, input field, enum value, union member,
// interface and directive of the result becomes its ast definition, and
// gqlparser's own schema validation then checks the whole.
func Schema(introspection []byte) (*ast.Schema, error) {
	var wrapped struct {
		Data *struct {
			Schema *introSchema `json:"__schema"`
		} `json:"data"`
		Schema *introSchema `json:"__schema"`
	}
	if err := json.Unmarshal(introspection, &wrapped); err != nil {
		return nil, fmt.Errorf("railwayfake: the introspection result is not JSON: %w", err)
	}
	is := wrapped.Schema
	if wrapped.Data != nil && wrapped.Data.Schema != nil {
		is = wrapped.Data.Schema
	}
	if is == nil || len(is.Types) == 0 {
		return nil, fmt.Errorf("railwayfake: no __schema with types in the introspection result")
	}
	pos := &ast.Position{Src: &ast.Source{Name: "introspection"}}
	conv := converter{pos: pos}
	doc := &ast.SchemaDocument{}
	sd := &ast.SchemaDefinition{Position: pos}
	for _, op := range []struct {
		op  ast.Operation
		ref *introRef
	}{{ast.Query, is.QueryType}, {ast.Mutation, is.MutationType}, {ast.Subscription, is.SubscriptionType}} {
		if op.ref != nil && op.ref.Name != "" {
			sd.OperationTypes = append(sd.OperationTypes, &ast.OperationTypeDefinition{Operation: op.op, Type: op.ref.Name, Position: pos})
		}
	}
	doc.Schema = append(doc.Schema, sd)
	for _, d := range is.Directives {
		def := &ast.DirectiveDefinition{Name: d.Name, Description: d.Description, IsRepeatable: d.IsRepeatable, Position: pos}
		for _, l := range d.Locations {
			def.Locations = append(def.Locations, ast.DirectiveLocation(l))
		}
		args, err := conv.args(d.Args)
		if err != nil {
			return nil, err
		}
		def.Arguments = args
		doc.Directives = append(doc.Directives, def)
	}
	for _, t := range is.Types {
		def, err := conv.definition(t)
		if err != nil {
			return nil, err
		}
		doc.Definitions = append(doc.Definitions, def)
	}
	schema, err := validator.ValidateSchemaDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("railwayfake: the schema does not validate: %w", err)
	}
	return schema, nil
}

// LoadSchema reads and converts an introspection result file (such as
// shared/specs/railway-schema.json) with Schema.
func LoadSchema(path string) (*ast.Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("railwayfake: %w", err)
	}
	return Schema(data)
}

// Check validates a request's document against the schema with gqlparser's
// validator (every rule of the GraphQL specification: fields, arguments
// and their types, variables declared and used, fragments), then holds
// the request's variable values to the variables' declared types.
func Check(schema *ast.Schema, query string, variables map[string]any, operationName string) error {
	doc, err := parser.ParseQuery(&ast.Source{Name: "request", Input: query})
	if err != nil {
		return fmt.Errorf("the document does not parse: %w", err)
	}
	if errs := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules()); len(errs) > 0 {
		return fmt.Errorf("the document is not valid against the schema: %w", errs)
	}
	op := doc.Operations.ForName(operationName)
	if op == nil && len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	if op == nil {
		return fmt.Errorf("the document has no operation %q", operationName)
	}
	if variables == nil {
		variables = map[string]any{}
	}
	if _, err := validator.VariableValues(schema, op, variables); err != nil {
		return fmt.Errorf("the variables do not match their types: %w", err)
	}
	return nil
}

type introSchema struct {
	QueryType        *introRef   `json:"queryType"`
	MutationType     *introRef   `json:"mutationType"`
	SubscriptionType *introRef   `json:"subscriptionType"`
	Types            []introType `json:"types"`
	Directives       []struct {
		Name         string       `json:"name"`
		Description  string       `json:"description"`
		Locations    []string     `json:"locations"`
		Args         []introInput `json:"args"`
		IsRepeatable bool         `json:"isRepeatable"`
	} `json:"directives"`
}

type introRef struct {
	Kind   string    `json:"kind"`
	Name   string    `json:"name"`
	OfType *introRef `json:"ofType"`
}

type introInput struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Type         introRef `json:"type"`
	DefaultValue *string  `json:"defaultValue"`
}

type introType struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Fields      []struct {
		Name              string       `json:"name"`
		Description       string       `json:"description"`
		Args              []introInput `json:"args"`
		Type              introRef     `json:"type"`
		IsDeprecated      bool         `json:"isDeprecated"`
		DeprecationReason *string      `json:"deprecationReason"`
	} `json:"fields"`
	InputFields []introInput `json:"inputFields"`
	Interfaces  []introRef   `json:"interfaces"`
	EnumValues  []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"enumValues"`
	PossibleTypes []introRef `json:"possibleTypes"`
}

type converter struct{ pos *ast.Position }

func (c converter) typ(r *introRef) (*ast.Type, error) {
	if r == nil {
		return nil, fmt.Errorf("railwayfake: a type reference is cut off")
	}
	switch r.Kind {
	case "NON_NULL":
		inner, err := c.typ(r.OfType)
		if err != nil {
			return nil, err
		}
		inner.NonNull = true
		return inner, nil
	case "LIST":
		inner, err := c.typ(r.OfType)
		if err != nil {
			return nil, err
		}
		return ast.ListType(inner, c.pos), nil
	}
	if r.Name == "" {
		return nil, fmt.Errorf("railwayfake: a named type reference has no name")
	}
	return ast.NamedType(r.Name, c.pos), nil
}

// defaultValue parses a default (given in GraphQL literal syntax) by
// reading it as an argument of a throwaway query.
func (c converter) defaultValue(raw *string) (*ast.Value, error) {
	if raw == nil {
		return nil, nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: "{ f(v: " + *raw + ") }"})
	if err != nil {
		return nil, fmt.Errorf("railwayfake: default value %q: %w", *raw, err)
	}
	return doc.Operations[0].SelectionSet[0].(*ast.Field).Arguments[0].Value, nil
}

func (c converter) args(in []introInput) (ast.ArgumentDefinitionList, error) {
	var out ast.ArgumentDefinitionList
	for _, a := range in {
		t, err := c.typ(&a.Type)
		if err != nil {
			return nil, err
		}
		dv, err := c.defaultValue(a.DefaultValue)
		if err != nil {
			return nil, err
		}
		out = append(out, &ast.ArgumentDefinition{Name: a.Name, Description: a.Description, Type: t, DefaultValue: dv, Position: c.pos})
	}
	return out, nil
}

func builtIn(name string) bool {
	switch name {
	case "String", "Int", "Float", "Boolean", "ID":
		return true
	}
	return strings.HasPrefix(name, "__")
}

func (c converter) definition(t introType) (*ast.Definition, error) {
	def := &ast.Definition{Name: t.Name, Description: t.Description, Position: c.pos, BuiltIn: builtIn(t.Name)}
	switch t.Kind {
	case "SCALAR":
		def.Kind = ast.Scalar
	case "OBJECT", "INTERFACE":
		def.Kind = ast.Object
		if t.Kind == "INTERFACE" {
			def.Kind = ast.Interface
		}
		for _, f := range t.Fields {
			ft, err := c.typ(&f.Type)
			if err != nil {
				return nil, err
			}
			args, err := c.args(f.Args)
			if err != nil {
				return nil, err
			}
			fd := &ast.FieldDefinition{Name: f.Name, Description: f.Description, Arguments: args, Type: ft, Position: c.pos}
			if f.IsDeprecated {
				d := &ast.Directive{Name: "deprecated", Position: c.pos, Location: ast.LocationFieldDefinition}
				if f.DeprecationReason != nil {
					d.Arguments = ast.ArgumentList{{Name: "reason", Position: c.pos,
						Value: &ast.Value{Kind: ast.StringValue, Raw: *f.DeprecationReason, Position: c.pos}}}
				}
				fd.Directives = ast.DirectiveList{d}
			}
			def.Fields = append(def.Fields, fd)
		}
		for _, i := range t.Interfaces {
			def.Interfaces = append(def.Interfaces, i.Name)
		}
	case "UNION":
		def.Kind = ast.Union
		for _, p := range t.PossibleTypes {
			def.Types = append(def.Types, p.Name)
		}
	case "ENUM":
		def.Kind = ast.Enum
		for _, e := range t.EnumValues {
			def.EnumValues = append(def.EnumValues, &ast.EnumValueDefinition{Name: e.Name, Description: e.Description, Position: c.pos})
		}
	case "INPUT_OBJECT":
		def.Kind = ast.InputObject
		for _, f := range t.InputFields {
			ft, err := c.typ(&f.Type)
			if err != nil {
				return nil, err
			}
			dv, err := c.defaultValue(f.DefaultValue)
			if err != nil {
				return nil, err
			}
			def.Fields = append(def.Fields, &ast.FieldDefinition{Name: f.Name, Description: f.Description, Type: ft, DefaultValue: dv, Position: c.pos})
		}
	default:
		return nil, fmt.Errorf("railwayfake: type %s has unknown kind %q", t.Name, t.Kind)
	}
	return def, nil
}
