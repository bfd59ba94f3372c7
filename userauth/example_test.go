package userauth_test

import (
	"fmt"
	"strings"

	"github.com/calfed/calfed/userauth"
)

func ExampleNewToken() {
	secret, id, hash, err := userauth.NewToken()
	if err != nil {
		return
	}
	// The secret is shown once; the store keeps id and hash.
	fmt.Println(strings.HasPrefix(secret, userauth.Prefix), len(id), hash == userauth.Hash(secret))
	// Output: true 12 true
}
