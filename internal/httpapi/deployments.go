package httpapi

// bindDeployments binds the deployment routes when their service is wired.
// (The deployments capability is being built.)
func (a *API) bindDeployments(h map[string]HandlerFunc) {}
