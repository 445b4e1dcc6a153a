package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// connectionService builds the connections capability: the vault from
// KMS_KEY_ID or LOCAL_KEK, every platform's endpoints from its <PLATFORM>_*
// variables, the platforms' account readers and key verifiers.
func (d *Deps) connectionService(ctx context.Context) (*connection.Service, error) {
	v, err := vault.FromEnv(ctx, d.Env, d.AWS)
	if err != nil {
		return nil, fmt.Errorf("app: credential vault: %w", err)
	}
	endpoints := map[platform.ID]platform.Endpoints{}
	for _, p := range platform.All() {
		endpoints[p.ID] = platform.LoadEndpoints(p.ID, d.Env)
	}
	clients := d.platformClients(endpoints)
	return connection.New(connection.Config{
		Repo:            d.Store.Connections(),
		Vault:           v,
		Endpoints:       endpoints,
		Accounts:        clients.accounts,
		Keys:            clients.keys,
		LongLived:       clients.longLived,
		ReturnAllowlist: splitList(d.Env("RETURN_URL_ALLOWLIST")),
		HTTP:            d.HTTP,
		Logger:          d.Logger,
	}), nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
