package connection_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/connection"
)

// Credentials sealed before Secret existed kept a signing key in three
// top-level fields; they must still open into the same key.
func TestCredentialsSealedInTheEarlierFormatReadTheirSigningKeyIntoSecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sealed string
		want         connection.Credentials
	}{
		{"earlier signing key", `{"appId":"vpaas-magic-cookie-1","keyId":"k1","privateKey":"-----BEGIN RSA PRIVATE KEY-----"}`,
			connection.Credentials{Secret: map[string]string{"appId": "vpaas-magic-cookie-1", "keyId": "k1", "privateKey": "-----BEGIN RSA PRIVATE KEY-----"}}},
		{"current signing key", `{"secret":{"appId":"a","keyId":"k","privateKey":"p"}}`,
			connection.Credentials{Secret: map[string]string{"appId": "a", "keyId": "k", "privateKey": "p"}}},
		{"api key", `{"apiKey":"rnd_x","extra":{"team_id":"t"}}`,
			connection.Credentials{APIKey: "rnd_x", Extra: map[string]string{"team_id": "t"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got connection.Credentials
			if err := json.Unmarshal([]byte(c.sealed), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("opened %+v, want %+v", got, c.want)
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var round connection.Credentials
			if err := json.Unmarshal(again, &round); err != nil || !reflect.DeepEqual(round, c.want) {
				t.Fatalf("resealed as %s, opened %+v (%v)", again, round, err)
			}
		})
	}
}
