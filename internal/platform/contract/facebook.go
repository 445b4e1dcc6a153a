package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"
)

// FacebookLiveVideo is facebook-livevideo-params.json: the parameters and
// enum values the Graph API takes on each LiveVideo call, extracted from
// facebook/facebook-python-business-sdk (see its header).
type FacebookLiveVideo struct {
	Operations map[string]FacebookOperation `json:"operations"`
}

// FacebookOperation is one call: its "METHOD /path" and parameters.
type FacebookOperation struct {
	HTTP   string                   `json:"http"`
	Params map[string]FacebookParam `json:"params"`
}

// FacebookParam is one parameter: the SDK's type name and, for an enum,
// its values.
type FacebookParam struct {
	Type string   `json:"type"`
	Enum []string `json:"enum"`
}

// The operations of facebook-livevideo-params.json.
const (
	FacebookPageCreate = "page_create_live_video"
	FacebookUserCreate = "user_create_live_video"
	FacebookUpdate     = "livevideo_update"
	FacebookDelete     = "livevideo_delete"
)

// LoadFacebookLiveVideo reads shared/specs/facebook-livevideo-params.json.
func LoadFacebookLiveVideo() (*FacebookLiveVideo, error) {
	p, err := SpecPath("facebook-livevideo-params.json")
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var d FacebookLiveVideo
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("contract: facebook-livevideo-params.json: %w", err)
	}
	for _, op := range []string{FacebookPageCreate, FacebookUserCreate, FacebookUpdate, FacebookDelete} {
		if _, ok := d.Operations[op]; !ok {
			return nil, fmt.Errorf("contract: facebook-livevideo-params.json has no operation %s", op)
		}
	}
	return &d, nil
}

// Names lists an operation's parameter names, sorted.
func (d *FacebookLiveVideo) Names(op string) []string {
	var out []string
	for name := range d.Operations[op].Params {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// CheckForm holds the parameters of one call to operation op: each must
// be one the SDK declares for it, an enum's value one of its values, and
// a value readable as the declared type (bool, the integer and float
// types, datetime as a Unix time or RFC 3339, Object and map as a JSON
// object, list<...> as a JSON array).
func (d *FacebookLiveVideo) CheckForm(op string, form url.Values) error {
	o, ok := d.Operations[op]
	if !ok {
		return fmt.Errorf("no operation %s in facebook-livevideo-params.json", op)
	}
	var errs []error
	for name, vals := range form {
		p, ok := o.Params[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: parameter %q is not one the SDK declares (%s)", op, name, o.HTTP))
			continue
		}
		for _, v := range vals {
			if err := p.check(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s=%q: %w", op, name, v, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (p FacebookParam) check(v string) error {
	if len(p.Enum) > 0 {
		if !slices.Contains(p.Enum, v) {
			return fmt.Errorf("not one of %v", p.Enum)
		}
		return nil
	}
	var err error
	switch p.Type {
	case "bool":
		_, err = strconv.ParseBool(v)
	case "int", "unsigned int":
		_, err = strconv.ParseInt(v, 10, 64)
	case "float":
		_, err = strconv.ParseFloat(v, 64)
	case "datetime":
		if _, perr := strconv.ParseInt(v, 10, 64); perr != nil {
			_, err = time.Parse(time.RFC3339, v)
		}
	case "Object", "map":
		var m map[string]any
		err = json.Unmarshal([]byte(v), &m)
	case "string":
	default:
		if len(p.Type) > 5 && p.Type[:5] == "list<" {
			var a []any
			err = json.Unmarshal([]byte(v), &a)
		}
	}
	if err != nil {
		return fmt.Errorf("not a %s", p.Type)
	}
	return nil
}
