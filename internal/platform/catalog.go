package platform

// Listing is a platform as GET /platforms shows it: its descriptor and
// whether this deployment has what it needs to connect it.
type Listing struct {
	Descriptor
	Configured bool
}

// Catalog lists the platforms with their configuration state.
type Catalog struct {
	all        []Descriptor
	configured func(Descriptor) bool
}

// NewCatalog builds a catalog of the platforms all (the registry's list);
// configured says whether a platform can be connected here (nil: every
// platform can).
func NewCatalog(all []Descriptor, configured func(Descriptor) bool) *Catalog {
	return &Catalog{all: all, configured: configured}
}

// List gives every platform in a stable order.
func (c *Catalog) List() []Listing {
	all := c.all
	out := make([]Listing, len(all))
	for i, d := range all {
		out[i] = Listing{Descriptor: d, Configured: c.configured == nil || c.configured(d)}
	}
	return out
}
