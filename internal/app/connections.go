package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// vault is the process's one credential vault (KMS_KEY_ID or LOCAL_KEK),
// built on first use: one data-key cache for every capability.
func (d *Deps) vault(ctx context.Context) (*vault.Vault, error) {
	if d.built.vault == nil {
		v, err := vault.FromEnv(ctx, d.Env, d.AWS)
		if err != nil {
			return nil, fmt.Errorf("app: credential vault: %w", err)
		}
		d.built.vault = v
	}
	return d.built.vault, nil
}

// endpoints are every platform's endpoints from its <PLATFORM>_* variables.
func (d *Deps) endpoints() map[platform.ID]platform.Endpoints { return d.Config.Endpoints }

// clients are the platform clients, built once over the endpoints.
func (d *Deps) clients() *platformSet {
	if d.built.clients == nil {
		ps := d.platformClients(d.endpoints())
		d.built.clients = &ps
	}
	return d.built.clients
}

// connectionService builds the connections capability once: the vault,
// every platform's endpoints, the platforms' account readers and key
// verifiers. Every capability asks it for tokens.
func (d *Deps) connectionService(ctx context.Context) (*connection.Service, error) {
	if d.built.conns != nil {
		return d.built.conns, nil
	}
	v, err := d.vault(ctx)
	if err != nil {
		return nil, err
	}
	clients := d.clients()
	d.built.conns = connection.New(connection.Config{
		Repo:            d.Store.Connections(),
		Vault:           v,
		Endpoints:       d.endpoints(),
		Accounts:        clients.accounts,
		Keys:            clients.keys,
		LongLived:       clients.longLived,
		Revokers:        clients.revokers,
		Choosers:        clients.choosers,
		Grants:          clients.grants,
		ReturnAllowlist: d.Config.ReturnAllowlist,
		HTTP:            d.HTTP,
		Logger:          d.Logger,
	})
	return d.built.conns, nil
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
