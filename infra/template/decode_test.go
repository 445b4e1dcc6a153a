package template_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/infra/template"
)

func TestShortFormTagsDecodeToTheirLongForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		yaml string
		want string // JSON
	}{
		{"Ref", `!Ref Table`, `{"Ref":"Table"}`},
		{"Ref to a pseudo parameter", `!Ref AWS::Region`, `{"Ref":"AWS::Region"}`},
		{"Ref keeps a numeric-looking name a string", `!Ref 123`, `{"Ref":"123"}`},
		{"GetAtt scalar", `!GetAtt Table.Arn`, `{"Fn::GetAtt":["Table","Arn"]}`},
		{"GetAtt scalar with a dotted attribute", `!GetAtt Db.Endpoint.Address`, `{"Fn::GetAtt":["Db","Endpoint.Address"]}`},
		{"GetAtt sequence", `!GetAtt [Table, StreamArn]`, `{"Fn::GetAtt":["Table","StreamArn"]}`},
		{"GetAtt sequence with a Ref", `!GetAtt [Table, !Ref Attr]`, `{"Fn::GetAtt":["Table",{"Ref":"Attr"}]}`},
		{"Sub scalar", `!Sub 'arn:${AWS::Partition}:s3:::${Bucket}'`, `{"Fn::Sub":"arn:${AWS::Partition}:s3:::${Bucket}"}`},
		{"Sub sequence", "!Sub\n  - '${A}-${B}'\n  - {B: !Ref Param}", `{"Fn::Sub":["${A}-${B}",{"B":{"Ref":"Param"}}]}`},
		{"Join", `!Join [',', [a, !Ref B]]`, `{"Fn::Join":[",",["a",{"Ref":"B"}]]}`},
		{"If", `!If [IsProd, 512, !Ref AWS::NoValue]`, `{"Fn::If":["IsProd",512,{"Ref":"AWS::NoValue"}]}`},
		{"Equals", `!Equals [!Ref Env, prod]`, `{"Fn::Equals":[{"Ref":"Env"},"prod"]}`},
		{"Not", `!Not [!Equals [!Ref Id, '']]`, `{"Fn::Not":[{"Fn::Equals":[{"Ref":"Id"},""]}]}`},
		{"And", `!And [!Condition A, !Condition B]`, `{"Fn::And":[{"Condition":"A"},{"Condition":"B"}]}`},
		{"Or", `!Or [!Condition A, !Equals [x, y]]`, `{"Fn::Or":[{"Condition":"A"},{"Fn::Equals":["x","y"]}]}`},
		{"Select", `!Select [0, !GetAZs '']`, `{"Fn::Select":[0,{"Fn::GetAZs":""}]}`},
		{"Split", `!Split [',', !Ref List]`, `{"Fn::Split":[",",{"Ref":"List"}]}`},
		{"FindInMap", `!FindInMap [Map, !Ref AWS::Region, Ami]`, `{"Fn::FindInMap":["Map",{"Ref":"AWS::Region"},"Ami"]}`},
		{"ImportValue", `!ImportValue shared-vpc`, `{"Fn::ImportValue":"shared-vpc"}`},
		{"ImportValue of a Sub", "!ImportValue\n  Fn::Sub: '${Net}-vpc'", `{"Fn::ImportValue":{"Fn::Sub":"${Net}-vpc"}}`},
		{"Base64", `!Base64 hello`, `{"Fn::Base64":"hello"}`},
		{"Cidr", `!Cidr [10.0.0.0/16, 4, 8]`, `{"Fn::Cidr":["10.0.0.0/16",4,8]}`},
		{"GetAZs", `!GetAZs us-east-1`, `{"Fn::GetAZs":"us-east-1"}`},
		{"Condition", `!Condition HasYoutube`, `{"Condition":"HasYoutube"}`},
		{"nested in mappings and lists", "A:\n  - !Ref X\n  - {B: !GetAtt Y.Z}", `{"A":[{"Ref":"X"},{"B":{"Fn::GetAtt":["Y","Z"]}}]}`},
		{"plain scalars keep their JSON types", "a: 1\nb: true\nc: ~\nd: '1'\ne: 2.5\nf: 2010-09-09", `{"a":1,"b":true,"c":null,"d":"1","e":2.5,"f":"2010-09-09"}`},
		{"a quoted Null key is a string", "'Null': {k: 'false'}", `{"Null":{"k":"false"}}`},
		{"long forms pass through", `{"Fn::GetAtt": ["T", "Arn"]}`, `{"Fn::GetAtt":["T","Arn"]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := decodeValue(t, c.yaml)
			var want any
			dec := json.NewDecoder(strings.NewReader(c.want))
			dec.UseNumber()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("bad test case JSON: %v", err)
			}
			if !equal(got, want) {
				g, _ := json.Marshal(got)
				t.Errorf("%s\n got %s\nwant %s", c.yaml, g, c.want)
			}
		})
	}
}

func TestEveryShortFormTagIsConvertedAndNoOther(t *testing.T) {
	t.Parallel()
	want := []string{"!Ref", "!GetAtt", "!Sub", "!Join", "!If", "!Equals", "!Not", "!And", "!Or", "!Select", "!Split",
		"!FindInMap", "!ImportValue", "!Base64", "!Cidr", "!GetAZs", "!Condition"}
	if !sameSet(sortedKeys(template.LongForms), want) {
		t.Errorf("LongForms covers %v, want %v", sortedKeys(template.LongForms), want)
	}
}

func TestDecodeRefusesWhatCloudFormationWouldMisread(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, wantErr string
	}{
		{"unknown tag", "a: !GetAttr T.Arn", "unknown tag !GetAttr"},
		{"GetAtt without an attribute", "a: !GetAtt Table", "not Resource.Attribute"},
		{"If with two arguments", "a: !If [C, x]", "!If takes 3 arguments, not 2"},
		{"Sub with a lone list item", "a: !Sub ['${X}']", "!Sub takes 2 arguments, not 1"},
		{"Ref of a list", "a: !Ref [X]", "!Ref takes a single value"},
		{"Join of a scalar", "a: !Join x", "!Join takes a list"},
		{"duplicate key", "Variables:\n  A: 1\n  A: 2", `key "A" appears twice`},
		{"unquoted Null key", "Null: {k: 'false'}", "quote it"},
		{"boolean key", "true: 1", "quote it"},
		{"alias", "a: &x 1\nb: *x", "alias"},
		{"merge key", "a: &x {k: 1}\nb:\n  <<: {k: 2}", "merge key"},
		{"two documents", "a: 1\n---\nb: 2", "more than one YAML document"},
		{"not a mapping", "- a", "not a mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := template.Decode([]byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Decode(%q) = %v, want an error containing %q", c.yaml, err, c.wantErr)
			}
		})
	}
}

func TestDecodeErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	_, err := template.Decode([]byte("Resources:\n  A:\n    Type: X\n    Properties:\n      B: !Bogus c\n"))
	if err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("error %v does not name line 5", err)
	}
}

// decodeValue decodes a YAML value (wrapped in a mapping, as Decode takes
// only a mapping).
func decodeValue(t *testing.T, y string) any {
	t.Helper()
	indented := "  " + strings.ReplaceAll(y, "\n", "\n  ")
	m, err := template.Decode([]byte("v:\n" + indented + "\n"))
	if err != nil {
		t.Fatalf("Decode(%q): %v", y, err)
	}
	return m["v"]
}
