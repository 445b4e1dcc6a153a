package httpapi

// bindMeetings binds the meeting routes when their service is wired.
// (The meetings capability is being built.)
func (a *API) bindMeetings(h map[string]HandlerFunc) {}
