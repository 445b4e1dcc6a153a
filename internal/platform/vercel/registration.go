package vercel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "vercel"

// Registration is what Switchboard knows about Vercel.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Vercel", Kind: platform.KindDeploy,
			Auth: []platform.AuthMethod{platform.AuthOAuth2, platform.AuthAPIKey},
			Capabilities: []platform.Capability{platform.CapDeployFiles, platform.CapDeployRepo, platform.CapDeployLogs,
				platform.CapDeployCancel, platform.CapDeployRollback},
			Notes: "Git repositories deploy from GitHub or Bitbucket through the user's Git connection in Vercel (a branch is required; GitLab needs a project id a URL does not carry). A project name Switchboard did not create in the user's Vercel account is refused, never taken over."},
		OAuth: &platform.OAuth{
			AuthURL:  "https://vercel.com/integrations/switchboard/new",
			TokenURL: "https://api.vercel.com/v2/oauth/access_token",
			Exchange: platform.ExchangeIntegration,
		},
		Key: &platform.KeyAuth{Fields: []string{"token", "teamId"}, Parse: func(in map[string]string) (platform.KeyCredentials, error) {
			return platform.KeyCredentials{APIKey: strings.TrimSpace(in["token"]), Team: strings.TrimSpace(in["teamId"])}, nil
		},
			Help: "Create an access token in Vercel under Account Settings, Tokens, with its scope set to the account or team " +
				"to deploy to. To deploy to a team, also give the team's id (team_…, in the team's settings).",
			Labels: map[string]string{"token": "Vercel access token", "teamId": "Team id (optional)"}},
		// The connect page offers the token's teams (Choices); the one chosen is
		// where a deployment without workspaceId goes.
		Choice: "team",
		APIURL: DefaultAPIURL,
		Settings: []platform.Setting{{Name: "VERCEL_UPLOAD_CONCURRENCY", Default: strconv.Itoa(DefaultUploadConcurrency),
			Meaning: fmt.Sprintf("Vercel file uploads at once (1 to %d)", MaxUploadConcurrency),
			Check:   func(v string) error { _, err := ParseUploadConcurrency(v); return err }}},
		New: func(d platform.ClientDeps) any {
			n, _ := ParseUploadConcurrency(d.Settings["VERCEL_UPLOAD_CONCURRENCY"]) // checked at configuration
			return New(d.HTTP, d.Endpoints.APIURL, WithUploadConcurrency(n))
		},
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://api.vercel.com"
