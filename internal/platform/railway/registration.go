package railway

import (
	"errors"
	"strconv"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "railway"

// Registration is what Switchboard knows about Railway.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Railway", Kind: platform.KindDeploy,
			Auth: []platform.AuthMethod{platform.AuthOAuth2, platform.AuthAPIKey},
			Capabilities: []platform.Capability{platform.CapDeployRepo, platform.CapDeployImage, platform.CapDeployDatabase,
				platform.CapDeployLogs, platform.CapDeployCancel, platform.CapDeployRollback, platform.CapTokenRefresh},
			Notes: "Railway documents no file upload: the CLI's upload endpoint is undocumented, so repository and image sources are the supported path."},
		OAuth: &platform.OAuth{
			AuthURL: "https://backboard.railway.com/oauth/auth", TokenURL: "https://backboard.railway.com/oauth/token",
			Scopes: []string{"openid", "email", "profile", "offline_access", "workspace:member", "project:member"},
			PKCE:   true, Refreshable: true, RotatesRefresh: true, ClientAuth: platform.ClientAuthBasic,
			AuthParams: map[string]string{"prompt": "consent"},
			// Workspace scopes are granted for the workspaces the user selects on
			// the consent screen, so a grant can come back without one; every
			// deployment needs workspace:member. Evidence: docs.railway.com/
			// integrations/oauth/scopes-and-user-consent ("These are selective:
			// the user chooses which specific workspaces or projects to share").
			NeededScopes: []string{"workspace:member"},
		},
		Key: &platform.KeyAuth{Fields: []string{"token", "tokenType"}, Parse: parseKey,
			Help: "Create a token in Railway under Account Settings, Tokens (an account token), or in a workspace's or " +
				"project's settings. Say which kind it is: account (the default), workspace or project.",
			Labels: map[string]string{"token": "Railway token", "tokenType": "Token kind (account, workspace or project; optional)"}},
		APIURL:   DefaultAPIURL,
		Choice:   "workspace",
		Settings: settings(),
		New:      newClient,
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://backboard.railway.com/graphql/v2"

// tokenTypes maps the tokenType a caller gives to the kind the client is
// told (platform.TokenOfKind): an account token (the default; what
// `railway login` and the account settings make) needs none. Railway tells
// its kinds apart only by how they are sent (PLATFORMS.md Railway, "Token
// kinds").
var tokenTypes = map[string]string{"": "", "account": "", TokenWorkspace: TokenWorkspace, TokenProject: TokenProject}

func parseKey(in map[string]string) (platform.KeyCredentials, error) {
	kind, ok := tokenTypes[strings.TrimSpace(in["tokenType"])]
	if !ok {
		return platform.KeyCredentials{}, errors.New("tokenType must be account (the default), workspace or project: the kind of Railway token given")
	}
	return platform.KeyCredentials{APIKey: strings.TrimSpace(in["token"]), TokenKind: kind}, nil
}

// Railway's settings (Registration.Settings).
const (
	settingPollInterval       = "RAILWAY_POLL_INTERVAL_MS"
	settingUndocumentedUpload = "RAILWAY_UNDOCUMENTED_UPLOAD"
)

// settings are Railway's configuration variables.
func settings() []platform.Setting {
	return []platform.Setting{
		{Name: settingPollInterval, Default: strconv.FormatInt(DefaultPollEvery.Milliseconds(), 10),
			Meaning: "how often a Railway deployment's status is read",
			Check:   func(v string) error { _, err := platform.Millis(v, DefaultPollEvery); return err }},
		{Name: settingUndocumentedUpload, Default: "false",
			Meaning: "true lets Railway deployments take files through the CLI's undocumented upload endpoint",
			Check:   func(v string) error { _, err := platform.Bool(v); return err }},
	}
}

// newClient is the Railway client over deps with the deploy options of
// configuration: its undocumented upload and its status polling.
func newClient(d platform.ClientDeps) any {
	poll, _ := platform.Millis(d.Settings[settingPollInterval], DefaultPollEvery) // checked at configuration
	upload, _ := platform.Bool(d.Settings[settingUndocumentedUpload])
	return New(d.HTTP, d.Endpoints.APIURL, WithUndocumentedUpload(upload),
		WithStatusPolling(poll), WithPolling(poll, 0))
}
