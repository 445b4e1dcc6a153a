package platform

// operationCapabilities pairs each capability that is an optional operation
// with the interface that implements it, in the order they are advertised.
func operationCapabilities() []operation {
	return []operation{
		{CapBroadcastEnd, func(c any) bool { _, ok := c.(Ender); return ok }},
		{CapBroadcastUpdate, func(c any) bool { _, ok := c.(Updater); return ok }},
		{CapMeetingEnd, func(c any) bool { _, ok := c.(MeetingEnder); return ok }},
		{CapMeetingDelete, func(c any) bool { _, ok := c.(MeetingDeleter); return ok }},
		{CapMeetingUpdate, func(c any) bool { _, ok := c.(MeetingUpdater); return ok }},
	}
}

type operation struct {
	cap        Capability
	implements func(client any) bool
}

// IsOperation reports whether c is a capability that a client has by
// implementing an optional operation's interface (and only so).
func IsOperation(c Capability) bool {
	for _, o := range operationCapabilities() {
		if o.cap == c {
			return true
		}
	}
	return false
}

// Implements reports whether client implements the optional operation
// behind capability c; false for a capability that is no operation.
func Implements(client any, c Capability) bool {
	for _, o := range operationCapabilities() {
		if o.cap == c {
			return o.implements(client)
		}
	}
	return false
}

// WithOperations is a registration's capabilities: the ones it declares,
// with the capabilities of the optional operations client implements
// derived from its type (a typed nil pointer is enough), so what a
// platform advertises and what its client does cannot disagree. The
// derived ones go before the token capabilities, where the lists have them.
// Declaring an operation's capability by hand panics: it is derived only.
func WithOperations(client any, declared ...Capability) []Capability {
	var ops []Capability
	for _, o := range operationCapabilities() {
		if o.implements(client) {
			ops = append(ops, o.cap)
		}
	}
	at := len(declared)
	for i, c := range declared {
		if IsOperation(c) {
			panic("platform: capability " + string(c) + " is derived from the client, not declared")
		}
		if at == len(declared) && (c == CapTokenRefresh || c == CapTokenRevoke) {
			at = i
		}
	}
	out := make([]Capability, 0, len(declared)+len(ops))
	out = append(out, declared[:at]...)
	out = append(out, ops...)
	return append(out, declared[at:]...)
}
