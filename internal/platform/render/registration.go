package render

import (
	"strings"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// ID names the platform in URLs, keys and environment variables.
const ID platform.ID = "render"

// Registration is what Switchboard knows about Render.
func Registration() platform.Registration {
	return platform.Registration{
		Descriptor: platform.Descriptor{ID: ID, Name: "Render", Kind: platform.KindDeploy,
			Auth: []platform.AuthMethod{platform.AuthAPIKey},
			Capabilities: []platform.Capability{platform.CapDeployRepo, platform.CapDeployImage, platform.CapDeployDatabase,
				platform.CapDeployLogs, platform.CapDeployCancel, platform.CapDeployRollback},
			Notes: "Render takes no file upload: code comes from a Git repository or a registry image. No third-party OAuth: connect with an API key."},
		Key: &platform.KeyAuth{Fields: []string{"apiKey"}, Parse: func(in map[string]string) (platform.KeyCredentials, error) {
			return platform.KeyCredentials{APIKey: strings.TrimSpace(in["apiKey"])}, nil
		},
			// Evidence: render.com/api ("Create an API key ... from your Account Settings page");
			// render.com/changelog/fine-grained-api-keys-now-generally-available (new keys are scoped
			// to one workspace with fine-grained permissions; older keys reach every workspace).
			Help: "Create an API key in the Render Dashboard under Account Settings, API Keys. A new key is scoped to one " +
				"workspace: grant it write access to services and deploys, environment variables and logs there. " +
				"(An older key acts with your own access to every workspace you belong to.)",
			Labels: map[string]string{"apiKey": "Render API key"}},
		APIURL: DefaultAPIURL,
		Choice: "owner",
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://api.render.com/v1"
