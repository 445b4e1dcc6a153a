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
		}},
		APIURL: DefaultAPIURL,
		New:    func(d platform.ClientDeps) any { return New(d.HTTP, d.Endpoints.APIURL) },
	}
}

// DefaultAPIURL is the API base this client calls when given none.
const DefaultAPIURL = "https://api.render.com/v1"
