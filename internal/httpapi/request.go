package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/trunc"
)

// Identity is who is calling, read only from the JWT authorizer's verified
// claims.
type Identity struct {
	Tenant string
	User   string
}

// Request is what a handler sees of an HTTP API event.
type Request struct {
	Route      Route
	PathParams map[string]string
	Query      url.Values
	Header     map[string]string // lower-case names, as API Gateway gives them
	Body       []byte
	Identity   Identity
	RequestID  string
}

// Param is a path parameter.
func (r *Request) Param(name string) string { return r.PathParams[name] }

// HeaderValue reads a header by any case of its name.
func (r *Request) HeaderValue(name string) string { return r.Header[strings.ToLower(name)] }

var errBodyTooLarge = errors.New("the request body is over the size limit")

// Decode reads the JSON body into v, refusing unknown fields, trailing data
// and bodies over the route's limit.
func (r *Request) Decode(v any) error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return apperr.E(apperr.Invalid, apperr.CodeBodyRequired, "this request needs a JSON body")
	}
	if err := r.checkMediaType(); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		detail := describeJSONError(err)
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			detail = unknownFieldDetail(r.Body, reflect.TypeOf(v))
		}
		return apperr.Wrap(apperr.Invalid, apperr.CodeInvalidBody, detail, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "the body holds more than one JSON value")
	}
	return nil
}

// checkMediaType refuses a body sent as anything but JSON (415): a form
// (curl -d without a Content-Type) or text is not read as JSON by guess.
func (r *Request) checkMediaType() error {
	if ct := r.HeaderValue("content-type"); len(bytes.TrimSpace(r.Body)) > 0 && ct != "" && !isJSON(ct) {
		return apperr.Errorf(apperr.BadMediaType, apperr.CodeUnsupportedMediaType, "send the body as application/json, not %q", trunc.String(ct, 64))
	}
	return nil
}

// QueryInt reads an integer query parameter within [min, max], def when absent.
func (r *Request) QueryInt(name string, def, min, max int) (int, error) {
	s := r.Query.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidQuery, "%s must be a whole number from %d to %d", name, min, max)
	}
	return n, nil
}

func isJSON(ct string) bool {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type.String())
		}
		return fmt.Sprintf("the body must be a JSON %s", typ.Type.String())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before its JSON does"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "the body is not the JSON this route takes"
}

// unknownFieldDetail names the first member of body that the type t does
// not take, where it is, and the members that are taken there, so a caller
// learns the expected shape from the refusal.
func unknownFieldDetail(body []byte, t reflect.Type) string {
	var doc any
	if err := json.Unmarshal(body, &doc); err == nil {
		if d, found := findUnknownField(doc, t, ""); found {
			return d
		}
	}
	return "the body has a field this route does not take"
}

func findUnknownField(v any, t reflect.Type, at string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			names = append(names, f.name)
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			// encoding/json matches member names case-insensitively.
			i := slices.IndexFunc(fields, func(f jsonField) bool { return strings.EqualFold(f.name, k) })
			if i < 0 {
				where := "the body"
				if at != "" {
					where = at
				}
				return fmt.Sprintf("unknown field %q in %s; the fields taken there are %s", trunc.String(k, 64), where, strings.Join(names, ", ")), true
			}
			if d, found := findUnknownField(obj[k], fields[i].typ, join(at, fields[i].name)); found {
				return d, true
			}
		}
	case reflect.Slice, reflect.Array:
		list, ok := v.([]any)
		if !ok {
			return "", false
		}
		for i, e := range list {
			if d, found := findUnknownField(e, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); found {
				return d, true
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		for k, e := range obj {
			if d, found := findUnknownField(e, t.Elem(), join(at, k)); found {
				return d, true
			}
		}
	}
	return "", false
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields are the members a struct takes, as encoding/json names them.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

// validClaim accepts a claim usable as an identity: present, not too long,
// printable.
func validClaim(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// plainClaim refuses a claim that was not a JSON string in the token. API
// Gateway's JWT authorizer hands every claim over as a string: a list as
// "[a b]", an object as "map[k:v]" (infra/gateway.StringifyClaim models
// it), so such a value would silently name a tenant made of several.
func plainClaim(s string) bool {
	list := strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]")
	object := strings.HasPrefix(s, "map[") && strings.HasSuffix(s, "]")
	return !list && !object
}
