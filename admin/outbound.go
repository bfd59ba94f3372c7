package admin

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/calfed/calfed/store"
)

// SetOutbound records, through api, the account the partner of
// relationship gave us and the secret in secretFile (one line, private to
// its owner) for asking it cross-forest; account "-" removes them.
func SetOutbound(ctx context.Context, api API, actor, relationship, account, secretFile string) error {
	account = strings.TrimSpace(account)
	if account == "-" {
		return api.SetOutboundCredential(ctx, actor, relationship, "", "")
	}
	if account == "" || secretFile == "" {
		return fmt.Errorf("%w: -outbound-account and -outbound-secret-file go together (-outbound-account - removes them)", store.ErrInvalid)
	}
	fi, err := os.Stat(secretFile)
	if err != nil {
		return fmt.Errorf("-outbound-secret-file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: -outbound-secret-file: %s is readable by others (mode %v); chmod 600 it", store.ErrInvalid, secretFile, fi.Mode().Perm())
	}
	data, err := os.ReadFile(secretFile)
	if err != nil {
		return fmt.Errorf("-outbound-secret-file: %w", err)
	}
	secret := strings.TrimRight(string(data), "\r\n")
	if secret == "" || strings.ContainsAny(secret, "\r\n") {
		return fmt.Errorf("%w: -outbound-secret-file: %s must hold the secret on one line", store.ErrInvalid, secretFile)
	}
	return api.SetOutboundCredential(ctx, actor, relationship, account, secret)
}
