package identity

import "context"

type sourceKey struct{}

// WithSource returns ctx carrying the network source of a request as the
// edge determined it (the client address, or its network for IPv6). It is
// not an identity: authenticators use it to share their work fairly
// between sources.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// SourceFromContext returns the request's source, if the edge set one.
func SourceFromContext(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(sourceKey{}).(string)
	return s, ok
}
