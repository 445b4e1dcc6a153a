package store

import (
	"context"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// The projects Switchboard's deployments made at a platform are recorded
// beside the tenant's deployments, one item per name in a scope (Vercel's
// team, "" for the token's own account):
//
//	pk TENANT#<tenant>  sk DEPLOYPROJECT#<platform>#<scope>#<name>   type deploy_project
//
// holding the platform's project id. A later deployment of the same name
// reuses that project, and a client that must never adopt a project the
// user made (Vercel) adopts only this one.
const deployProjectPrefix = "DEPLOYPROJECT#"

func deployProjectKey(tenant string, p platform.ID, scope, name string) (string, string) {
	return TenantPK(tenant), deployProjectPrefix + Esc(string(p)) + "#" + Esc(scope) + "#" + Esc(name)
}

// OwnedProject is the project id recorded for the name, "" when none.
func (r DeploymentRepo) OwnedProject(ctx context.Context, tenant string, p platform.ID, scope, name string) (string, error) {
	pk, sk := deployProjectKey(tenant, p, scope, name)
	it, err := r.s.Get(ctx, pk, sk)
	if IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return GetS(it, "projectId"), nil
}

// RecordProject records projectID as the project Switchboard made for the
// name (replacing an earlier one, e.g. deleted at the platform since).
func (r DeploymentRepo) RecordProject(ctx context.Context, tenant string, p platform.ID, scope, name, projectID string) error {
	pk, sk := deployProjectKey(tenant, p, scope, name)
	return r.s.Put(ctx, Item{AttrPK: S(pk), AttrSK: S(sk), "type": S("deploy_project"), "projectId": S(projectID),
		"updatedAt": T(r.s.Now())}, nil)
}
