package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// EventOptions are what NewEvent needs besides the request.
type EventOptions struct {
	Route          httpapi.Route
	PathParameters map[string]string // as matched on the raw path: still percent-encoded, as API Gateway gives them
	JWT            *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription
	RequestID      string
	Time           time.Time
	AccountID      string
	APIID          string
}

// apiGatewayTime is the layout of requestContext.time.
const apiGatewayTime = "02/Jan/2006:15:04:05 -0700"

// NewEvent builds the payload 2.0 event API Gateway sends for r:
//
//   - routeKey "METHOD /path/{param}", rawPath (percent-encoded, no stage:
//     the stage is $default), rawQueryString as sent;
//   - headers with lower-case names, repeated headers joined with commas, the
//     Host, and what API Gateway adds (x-forwarded-for/-port/-proto,
//     x-amzn-trace-id, content-length); the Cookie header is not among them:
//     its cookies are in cookies, one per element;
//   - queryStringParameters decoded, repeated parameters joined with commas;
//     nil when there is no query;
//   - pathParameters as matched (percent-encoding kept, as API Gateway HTTP
//     APIs deliver them; httpapi decodes them);
//   - requestContext: accountId, apiId, domainName (Host without port),
//     domainPrefix (its first label), http{method, path (decoded), protocol,
//     sourceIp, userAgent}, requestId, routeKey, stage "$default", time
//     ("02/Jan/2006:15:04:05 +0000"), timeEpoch (ms), authorizer.jwt;
//   - body as a string, base64 and isBase64Encoded true unless the content
//     type is text (see IsTextContentType).
func NewEvent(r *http.Request, body []byte, o EventOptions) events.APIGatewayV2HTTPRequest {
	t := o.Time.UTC()
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(values, ",")
	}
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	headers["x-amzn-trace-id"] = traceID(t)
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	} else {
		delete(headers, "content-length")
	}

	domain := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		domain = h
	}
	prefix, _, _ := strings.Cut(domain, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       o.Route.Key(),
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookies,
		Headers:        headers,
		PathParameters: o.PathParameters,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     o.Route.Key(),
			AccountID:    o.AccountID,
			Stage:        "$default",
			RequestID:    o.RequestID,
			APIID:        o.APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         t.Format(apiGatewayTime),
			TimeEpoch:    t.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if o.JWT != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: o.JWT}
	}
	if r.URL.RawQuery != "" {
		q, _ := url.ParseQuery(r.URL.RawQuery) // like API Gateway, keep what parses
		if len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			for k, v := range q {
				ev.QueryStringParameters[k] = strings.Join(v, ",")
			}
		}
	}
	if len(body) > 0 {
		if IsTextContentType(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// IsTextContentType reports whether API Gateway passes a body of this type
// as text: text/*, JSON, XML and JavaScript types. Everything else, a
// missing type and application/x-www-form-urlencoded included, arrives
// base64-encoded with isBase64Encoded true.
func IsTextContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/ecmascript":
		return true
	}
	return false
}

// traceID is an X-Ray trace header in the form API Gateway adds.
func traceID(t time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s", t.Unix(), hex.EncodeToString(b[:]))
}
