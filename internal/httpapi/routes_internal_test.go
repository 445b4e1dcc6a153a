package httpapi

// serveWith stands h in for the handler of the route with operation op,
// so a test can answer for a service.
func (a *API) serveWith(op string, h HandlerFunc) {
	for i := range a.routes {
		if a.routes[i].Operation == op {
			a.routes[i].handler = h
		}
	}
	a.matcher = NewMatcher(a.routes)
}
