package config

import (
	"context"
	"log/slog"

	"github.com/calfed/calfed/partner"
	"github.com/calfed/calfed/store"
	"github.com/calfed/calfed/trust"
)

// Asker is how our users' questions reach partners: through the outbound
// client, with delegation tokens from the trust as it is at each request
// (a certificate rollover applies at once), the credentials partners
// gave us from db, and the partners section's timeout, cache and breaker.
func (c *Config) Asker(db *store.DB, rels partner.Relationships, t *trust.Service, log *slog.Logger) (*partner.Asker, error) {
	o, err := c.OutboundClient()
	if err != nil {
		return nil, err
	}
	timeout, cache, failures, cooldown := c.PartnerTimeouts()
	return &partner.Asker{Relationships: rels, Tokens: trustTokens{t}, Credentials: db, HTTP: o.HTTP(0),
		Timeout: timeout, CacheFor: cache, BreakAfter: failures, BreakFor: cooldown, Logger: log}, nil
}

// trustTokens asks the token issuer the trust names now.
type trustTokens struct{ t *trust.Service }

func (tt trustTokens) Token(ctx context.Context, user, uri, offer string) ([]byte, error) {
	c, err := tt.t.Client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Token(ctx, user, uri, offer)
}
