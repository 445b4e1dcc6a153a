package httpapi

// bindLivestreams binds the livestream routes when their service is wired.
// (The livestreams capability is being built.)
func (a *API) bindLivestreams(h map[string]HandlerFunc) {}
