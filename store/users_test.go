package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calfed/calfed/orgrel"
)

func TestUserTokens(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		hash := strings.Repeat("ab", 32)
		exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		tok, err := d.CreateUserToken(ctx, "admin", orgrel.UserToken{ID: "t1", Address: "alice@contoso.example", Label: "Thunderbird", Expires: &exp}, hash)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Label != "Thunderbird" || tok.Expires == nil || !tok.Expires.Equal(exp) || tok.Revoked != nil {
			t.Errorf("CreateUserToken = %+v", tok)
		}
		if _, err := d.CreateUserToken(ctx, "admin", orgrel.UserToken{ID: "t2", Address: "bob@contoso.example"}, hash); err == nil {
			t.Error("two tokens with the same hash were recorded")
		}
		if _, err := d.CreateUserToken(ctx, "admin", orgrel.UserToken{ID: "t3", Address: "bob@contoso.example"}, "short"); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateUserToken with a bad hash = %v, want ErrInvalid", err)
		}
		got, err := d.UserTokenByHash(ctx, hash)
		if err != nil || got.ID != "t1" || !got.Usable(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)) || got.Usable(exp) {
			t.Errorf("UserTokenByHash = %+v, %v", got, err)
		}
		if _, err := d.UserTokenByHash(ctx, strings.Repeat("cd", 32)); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserTokenByHash(unknown) = %v, want ErrNotFound", err)
		}
		if list, err := d.UserTokens(ctx, "bob@contoso.example"); err != nil || len(list) != 0 {
			t.Errorf("UserTokens(bob) = %+v, %v", list, err)
		}
		revoked, err := d.RevokeUserToken(ctx, "admin", "t1")
		if err != nil || revoked.Revoked == nil || revoked.Usable(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("RevokeUserToken = %+v, %v", revoked, err)
		}
		if _, err := d.RevokeUserToken(ctx, "admin", "t1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("revoking twice = %v, want ErrInvalid", err)
		}
		if _, err := d.RevokeUserToken(ctx, "admin", "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoking an unknown token = %v, want ErrNotFound", err)
		}
		audit, _ := d.Audit(ctx, time.Time{}, 0)
		for _, e := range audit {
			if strings.Contains(string(e.After)+string(e.Before), hash) {
				t.Errorf("the audit log holds the token's hash: %+v", e)
			}
		}
	})
}

func TestOutboundCredential(t *testing.T) {
	each(t, func(t *testing.T, b backend, d *DB) {
		ctx := context.Background()
		if _, err := d.CreateRelationship(ctx, "admin", partner()); err != nil {
			t.Fatal(err)
		}
		if _, err := d.OutboundCredential(ctx, "Partner"); !errors.Is(err, ErrNotFound) {
			t.Errorf("OutboundCredential before any = %v", err)
		}
		if err := d.SetOutboundCredential(ctx, "admin", "partner", "svc-contoso", "s3cret-from-them"); err != nil {
			t.Fatal(err)
		}
		c, err := d.OutboundCredential(ctx, "PARTNER")
		if err != nil || c.Account != "svc-contoso" || c.Secret != "s3cret-from-them" {
			t.Errorf("OutboundCredential = %+v, %v", c, err)
		}
		if err := d.SetOutboundCredential(ctx, "admin", "Partner", "svc-contoso", ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("an empty secret = %v, want ErrInvalid", err)
		}
		if err := d.SetOutboundCredential(ctx, "admin", "Nobody", "a", "b"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown relationship = %v, want ErrNotFound", err)
		}
		audit, _ := d.Audit(ctx, time.Time{}, 0)
		for _, e := range audit {
			if strings.Contains(string(e.After)+string(e.Before), "s3cret") {
				t.Errorf("the audit log holds the secret: %+v", e)
			}
		}
		if err := d.SetOutboundCredential(ctx, "admin", "Partner", "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := d.OutboundCredential(ctx, "Partner"); !errors.Is(err, ErrNotFound) {
			t.Errorf("OutboundCredential after removal = %v", err)
		}
	})
}
