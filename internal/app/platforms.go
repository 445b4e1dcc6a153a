package app

import (
	"context"
	"time"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// platformSet is every platform client a process needs, built once.
type platformSet struct {
	// byID is every platform's client by its platform, for the capabilities
	// to pick theirs by interface (ofKind).
	byID map[platform.ID]any
	// jaas builds a client for one tenant's 8x8 JaaS app: it signs with the
	// tenant's key, so it cannot be shared.
	jaas func(connection.Credentials) (platform.Meeter, error)

	accounts  map[platform.ID]connection.AccountReader
	keys      map[platform.ID]connection.KeyVerifier
	longLived connection.LongLivedExchanger
	revokers  map[platform.ID]connection.GrantRevoker
	choosers  map[platform.ID]platform.Chooser
	grants    map[platform.ID]platform.GrantReader
}

// keyVerifier is a client that checks a pasted key itself, without an
// account to ask for (8x8 JaaS: the key must parse and sign).
type keyVerifier interface {
	VerifyKey(ctx context.Context, c platform.KeyCredentials) (platform.Account, error)
}

// jaasBuilder is a client that builds a meeting client per tenant key.
type jaasBuilder interface {
	JaaS(c platform.KeyCredentials) (platform.Meeter, error)
}

// longLivedExchanger is a client that trades a short-lived user token for
// a long-lived one (Meta's).
type longLivedExchanger interface {
	ExchangeLongLived(ctx context.Context, tokenURL, clientID, clientSecret, shortToken string) (string, time.Duration, error)
}

// keyCredentials are a connection's credentials as a platform's key
// verifier and JaaS builder read them.
func keyCredentials(c connection.Credentials) platform.KeyCredentials {
	return platform.KeyCredentials{APIKey: c.APIKey, Secret: c.Secret}
}

// platformClients builds every registered platform's client over the
// configured endpoints (each <PLATFORM>_API_URL, with the vendors'
// defaults), and picks the connection capability's parts by interface.
func (d *Deps) platformClients(ep map[platform.ID]platform.Endpoints) platformSet {
	ps := platformSet{
		byID:     map[platform.ID]any{},
		accounts: map[platform.ID]connection.AccountReader{},
		keys:     map[platform.ID]connection.KeyVerifier{},
		revokers: map[platform.ID]connection.GrantRevoker{},
		choosers: map[platform.ID]platform.Chooser{},
		grants:   map[platform.ID]platform.GrantReader{},
	}
	for _, r := range registry.Registrations() {
		deps := platform.ClientDeps{HTTP: d.HTTP, Endpoints: ep[r.ID], Settings: d.Config.PlatformSettings[r.ID]}
		if d.Store != nil {
			deps.Ledger = d.Store.QuotaLedger() // a metered platform counts its API units there
		}
		c := r.New(deps)
		ps.byID[r.ID] = c
		kv, verifiesKeys := c.(keyVerifier)
		ar, readsAccounts := c.(connection.AccountReader)
		if readsAccounts && !verifiesKeys {
			ps.accounts[r.ID] = ar
		}
		if r.Key != nil {
			switch {
			case verifiesKeys:
				ps.keys[r.ID] = func(ctx context.Context, c connection.Credentials) (platform.Account, error) {
					return kv.VerifyKey(ctx, keyCredentials(c))
				}
			case readsAccounts:
				ps.keys[r.ID] = func(ctx context.Context, c connection.Credentials) (platform.Account, error) {
					return ar.Whoami(ctx, c.Bearer()) // the token with its kind (a Railway workspace or project token)
				}
			}
		}
		// Meta's grant is revoked through Graph one permission at a time
		// where a sibling connection still needs the rest.
		if rv, ok := c.(connection.GrantRevoker); ok {
			ps.revokers[r.ID] = rv
		}
		if ch, ok := c.(platform.Chooser); ok && r.Choice != "" {
			ps.choosers[r.ID] = ch
		}
		if gr, ok := c.(platform.GrantReader); ok && r.OAuth != nil && len(r.OAuth.NeededScopes) > 0 {
			ps.grants[r.ID] = gr
		}
		if ll, ok := c.(longLivedExchanger); ok && ps.longLived == nil {
			ps.longLived = func(ctx context.Context, e platform.Endpoints, short string) (string, time.Duration, error) {
				return ll.ExchangeLongLived(ctx, e.TokenURL, e.ClientID, e.ClientSecret, short)
			}
		}
		if jb, ok := c.(jaasBuilder); ok && ps.jaas == nil {
			ps.jaas = func(creds connection.Credentials) (platform.Meeter, error) { return jb.JaaS(keyCredentials(creds)) }
		}
	}
	return ps
}

// deployers are the deploy platforms' clients for deploy work (Railway's
// with the deploy options of Config: its undocumented upload, its polling).
func (d *Deps) deployers() map[platform.ID]platform.Deployer {
	return ofKind[platform.Deployer](d.clients(), platform.KindDeploy)
}
