// Package instagram is Switchboard's client for Instagram Live, as far as
// a public API allows: none creates, starts or ends a live broadcast.
// The user copies a stream URL and key from Instagram's Live Producer into
// the target; Switchboard's encoder streams there, and this client reads
// through the Graph API whether the account is live
// (GET /{ig-user-id}/live_media, read-only) and which professional
// account is linked (GET /me/accounts).
//
// The client takes an access token per call, never logs, and never puts a
// token or a stream key into an error.
package instagram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook"
)

// NoAPIMessage is what Provision says when the target has no stream URL
// and key.
const NoAPIMessage = "Instagram has no public API to create a live broadcast: copy the stream URL and key from Instagram Live Producer into this target"

// Extra keys of an Account and a Broadcast.
const (
	ExtraIGUserID = "igUserId" // the Instagram professional account's id
	ExtraPageID   = "pageId"   // the Facebook Page it is linked to
)

// Client talks to the Graph API about Instagram accounts.
type Client struct {
	call platform.Caller
}

var _ platform.Broadcaster = (*Client)(nil)

// New builds a client. apiURL is the Graph base
// (registry.LoadEndpoints(ID, getenv).APIURL; empty: the
// default https://graph.facebook.com/v21.0). Errors are read in the Graph
// API's shape, as for Facebook.
func New(httpClient *http.Client, apiURL string) *Client {
	if apiURL == "" {
		apiURL = platform.MetaGraphURL
	}
	return &Client{call: platform.Caller{
		Platform: ID, HTTP: httpClient, BaseURL: strings.TrimRight(apiURL, "/"), Refine: facebook.Refine,
	}}
}

func fail(op string, reason platform.Reason, msg string) error {
	return &platform.Error{Platform: ID, Op: op, Reason: reason, Message: msg}
}

func (c *Client) do(ctx context.Context, r platform.Request, secrets ...string) (*platform.Response, error) {
	r.Secrets = append(r.Secrets, secrets...)
	return c.call.Do(ctx, r) // Do redacts the token and secrets from its errors
}

// Whoami finds the Instagram professional account linked to the user's
// Facebook Pages (GET /me/accounts?fields=name,instagram_business_account
// {id,username}, following the paging cursors): the first Page that has
// one gives Account{ID: the Instagram user id, Name: its username, Extra:
// {pageId, igUserId}}. None is ReasonNotEligible.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	const op = "read linked accounts"
	after := ""
	for range 20 {
		q := url.Values{"fields": {"name,instagram_business_account{id,username}"}}
		if after != "" {
			q.Set("after", after)
		}
		var out struct {
			Data []struct {
				ID      string `json:"id"`
				Name    string `json:"name"`
				Account *struct {
					ID       string `json:"id"`
					Username string `json:"username"`
				} `json:"instagram_business_account"`
			} `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if _, err := c.do(ctx, platform.Request{
			Op: op, Method: http.MethodGet, Path: "/me/accounts", Query: q, Token: token, Out: &out, Idempotent: true,
		}); err != nil {
			return platform.Account{}, err
		}
		for _, p := range out.Data {
			if p.Account != nil && p.Account.ID != "" {
				return platform.Account{ID: p.Account.ID, Name: p.Account.Username,
					Extra: map[string]string{ExtraPageID: p.ID, ExtraIGUserID: p.Account.ID}}, nil
			}
		}
		if out.Paging.Next == "" || out.Paging.Cursors.After == "" {
			break
		}
		after = out.Paging.Cursors.After
	}
	return platform.Account{}, fail(op, platform.ReasonNotEligible,
		"no Instagram professional account is linked to a Facebook Page: switch the Instagram account to a professional (business or creator) account and link it to a Page you manage")
}

// Provision takes the stream URL and key the user copied from Instagram's
// Live Producer (spec.IngestURL, spec.StreamKey) and returns them as the
// broadcast: nothing is created at Instagram, which has no API for it.
// Without them the answer is ReasonUnsupported with NoAPIMessage; a URL
// that is not rtmp:// or rtmps:// is ReasonInvalid.
//
// The Instagram user id that State reads is spec.Destination or, when that
// is empty, the linked account Whoami finds. ExternalID is a stable id
// derived from spec.RequestID ("" without one); WatchURL is the account's
// profile, where viewers find the broadcast, when the username is known.
func (c *Client) Provision(ctx context.Context, token string, spec platform.BroadcastSpec) (platform.Broadcast, error) {
	const op = "use Live Producer ingest"
	ingest, key := strings.TrimSpace(spec.IngestURL), strings.TrimSpace(spec.StreamKey)
	if ingest == "" || key == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonUnsupported, NoAPIMessage)
	}
	u, err := url.Parse(ingest)
	if err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
		return platform.Broadcast{}, fail(op, platform.ReasonInvalid,
			"the Instagram stream URL must start with rtmp:// or rtmps://: copy it from Instagram Live Producer")
	}
	if strings.ContainsAny(key, " \t\r\n") {
		return platform.Broadcast{}, fail(op, platform.ReasonInvalid, "the Instagram stream key must not contain spaces: copy it from Instagram Live Producer")
	}
	extra := map[string]string{}
	watch := ""
	if d := strings.TrimSpace(spec.Destination); d != "" {
		extra[ExtraIGUserID] = d
	} else {
		acc, err := c.Whoami(ctx, token)
		if err != nil {
			return platform.Broadcast{}, platform.Redact(err, key)
		}
		extra[ExtraIGUserID] = acc.ID
		if p := acc.Extra[ExtraPageID]; p != "" {
			extra[ExtraPageID] = p
		}
		if acc.Name != "" {
			watch = "https://www.instagram.com/" + url.PathEscape(acc.Name) + "/"
		}
	}
	return platform.Broadcast{
		ExternalID: ExternalID(spec.RequestID),
		WatchURL:   watch,
		IngestURL:  ingest,
		StreamKey:  key,
		Extra:      extra,
	}, nil
}

// ExternalID is the stable id of an Instagram target: Instagram gives
// none before the broadcast is live, so it is derived from the request id.
func ExternalID(requestID string) string {
	if requestID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("instagram-live:" + requestID))
	return "ig-" + hex.EncodeToString(sum[:12])
}

// State reads GET /{ig-user-id}/live_media?fields=id (the user id from
// b.Extra["igUserId"]): live when Instagram lists a broadcast in progress,
// ready otherwise. Instagram does not say whether a broadcast ended or
// never started; Switchboard knows that from its own records.
func (c *Client) State(ctx context.Context, token string, b platform.Broadcast) (platform.BroadcastState, error) {
	const op = "read live media"
	ig := b.Extra[ExtraIGUserID]
	if ig == "" || strings.ContainsAny(ig, "/?#") {
		return "", fail(op, platform.ReasonInvalid, "no Instagram user id for this target")
	}
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if _, err := c.do(ctx, platform.Request{
		Op: op, Method: http.MethodGet, Path: "/" + url.PathEscape(ig) + "/live_media",
		Query: url.Values{"fields": {"id"}}, Token: token, Out: &out, Idempotent: true,
	}, b.StreamKey); err != nil {
		return "", err
	}
	if len(out.Data) > 0 {
		return platform.BroadcastLive, nil
	}
	return platform.BroadcastReady, nil
}

// RevokeGrant withdraws the user's whole grant of the Meta app (DELETE
// /me/permissions, as for Facebook: one Graph API, one grant per user and
// app). A Facebook connection made through the same app dies with it.
func (c *Client) RevokeGrant(ctx context.Context, token string) error {
	return facebook.RevokeGrant(ctx, c.call, token)
}

// RevokePermissions withdraws the named permissions one at a time (DELETE
// /me/permissions/{permission}) and returns those withdrawn; see
// facebook.RevokePermissions.
func (c *Client) RevokePermissions(ctx context.Context, token string, permissions []string) ([]string, error) {
	return facebook.RevokePermissions(ctx, c.call, token, permissions)
}
