package platform

import "context"

// Account is the user's account at a platform, as the platform names it:
// what a connection shows as accountId and accountName. Extra holds other
// facts the platform gives (an e-mail address, a page id); never a secret.
type Account struct {
	ID, Name string
	Extra    map[string]string
	// Workspaces are the scopes the credentials may act in where the
	// platform has several (Railway's workspaces), in the platform's
	// order; the connection records them and offers them as choices.
	Workspaces []Workspace
}

// Workspace is one scope an account may act in: an id to send and a name
// to show. The empty id is the account itself, outside any workspace
// (Vercel's personal account: calls name no team).
type Workspace struct {
	ID, Name string
}

// Chooser is a client that lists where an account's credentials can act
// when the platform has several places and one should be chosen (a
// Facebook Page, a Render owner, a Vercel team). The hosted connect page offers them; the
// chosen one becomes the connection's default (its defaultWorkspaceId).
type Chooser interface {
	Choices(ctx context.Context, token string) ([]Workspace, error)
}

// GrantReader is a client that reads which scopes the user granted, for a
// platform whose token answer does not say and whose consent screen lets
// the user grant less than asked (Meta: GET /me/permissions). The
// connection compares them with OAuth.NeededScopes after the exchange.
type GrantReader interface {
	GrantedScopes(ctx context.Context, token string) ([]string, error)
}
