package platform

// Account is the user's account at a platform, as the platform names it:
// what a connection shows as accountId and accountName. Extra holds other
// facts the platform gives (an e-mail address, a page id); never a secret.
type Account struct {
	ID, Name string
	Extra    map[string]string
}
