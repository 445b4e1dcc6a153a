package gateway

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// Authorizer verifies bearer tokens the way API Gateway's JWT authorizer
// does, against fixed ES256 public keys instead of a JWKS URL:
//
//   - the header is "Bearer <token>" (the scheme in any case);
//   - the algorithm is ES256 and nothing else: "none", HS* and RS* are
//     refused, whatever the token says;
//   - the token's kid names one of Keys and its signature verifies with it;
//   - iss equals Issuer;
//   - aud holds one of Audiences, or, only when there is no aud, client_id
//     is one of them (API Gateway's rule for access tokens);
//   - exp is present and in the future; nbf and iat, when present, are not;
//     each within Leeway.
//
// Claims reach the function as strings (see StringifyClaim); scopes come
// from the scope claim (space-separated) or scp (a list or a string).
type Authorizer struct {
	Issuer    string
	Audiences []string
	Keys      map[string]*ecdsa.PublicKey // by kid
	Leeway    time.Duration               // DefaultLeeway when zero
	Now       func() time.Time            // time.Now when nil
}

// AuthError is why a token was refused. Its message is safe to show: it
// never holds the token.
type AuthError struct {
	Reason string // what the client sees
	Err    error  // the verifier's cause, if any
}

func (e *AuthError) Error() string { return e.Reason }
func (e *AuthError) Unwrap() error { return e.Err }

func refuse(format string, args ...any) error {
	return &AuthError{Reason: fmt.Sprintf(format, args...)}
}

// Verify checks an Authorization header value and returns what API Gateway
// puts in requestContext.authorizer.jwt.
func (a *Authorizer) Verify(header string) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, error) {
	if header == "" {
		return nil, refuse("the Authorization header is missing; send Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, refuse("the Authorization header is not a bearer token; send Authorization: Bearer <token>")
	}
	leeway := a.Leeway
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	now := a.Now
	if now == nil {
		now = time.Now
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithJSONNumber(),
		jwt.WithIssuer(a.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, refuse("the token has no kid")
		}
		key, ok := a.Keys[kid]
		if !ok {
			return nil, refuse("the token's kid is not a key of this issuer")
		}
		return key, nil
	})
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, &AuthError{Reason: describe(err), Err: err}
	}
	if err := a.checkAudience(claims); err != nil {
		return nil, err
	}
	out := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: make(map[string]string, len(claims))}
	for k, v := range claims {
		out.Claims[k] = StringifyClaim(v)
	}
	out.Scopes = scopes(claims)
	return out, nil
}

func (a *Authorizer) checkAudience(claims jwt.MapClaims) error {
	if _, present := claims["aud"]; present {
		aud, err := claims.GetAudience()
		if err != nil {
			return refuse("the token's aud claim is malformed")
		}
		for _, x := range aud {
			if slices.Contains(a.Audiences, x) {
				return nil
			}
		}
		return refuse("the token is not for this API (aud)")
	}
	if cid, ok := claims["client_id"].(string); ok && slices.Contains(a.Audiences, cid) {
		return nil
	}
	return refuse("the token is not for this API (no aud or client_id matches)")
}

// describe turns jwt's errors into a sentence for the 401's detail.
func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "the bearer token is not a well-formed JWT"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return "the token's algorithm is not accepted; this API takes ES256 only"
		}
		return "the token's signature does not verify"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the token cannot be verified"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "the token has no exp claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "the token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "the token is issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "the token's issuer is not trusted (iss)"
	}
	return "the bearer token is not valid"
}

// wwwAuthenticate is RFC 6750's challenge for a refused token.
func wwwAuthenticate(err error) string {
	reason := strings.ReplaceAll(err.Error(), `"`, "'")
	if strings.Contains(reason, "header is missing") {
		return `Bearer realm="switchboard"`
	}
	return `Bearer realm="switchboard", error="invalid_token", error_description="` + reason + `"`
}

// StringifyClaim renders a claim as API Gateway puts it in
// authorizer.jwt.claims, a map of strings: a string as it is; a number as
// its JSON text ("1795341600", never "1.7953416e+09"); true/false; a list
// as "[a b c]" (what API Gateway is observed to send, e.g. for groups); an
// object as "map[k1:v1 k2:v2]" with sorted keys (the same Go-style
// rendering; AWS does not document it, so no handler should parse it);
// null as "".
func StringifyClaim(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = StringifyClaim(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + StringifyClaim(x[k])
		}
		return "map[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprint(v)
}

func scopes(claims jwt.MapClaims) []string {
	if s, ok := claims["scope"].(string); ok && s != "" {
		return strings.Fields(s)
	}
	switch s := claims["scp"].(type) {
	case string:
		return strings.Fields(s)
	case []any:
		var out []string
		for _, e := range s {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}
