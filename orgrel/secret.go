package orgrel

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for service-account secrets: OWASP's recommended
// minimum (19 MiB, 2 passes, 1 lane). Stored with each hash, so they can be
// raised later without invalidating existing secrets.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// ErrBadHash is returned for a stored hash calfed cannot read.
var ErrBadHash = errors.New("orgrel: malformed secret hash")

var b64 = base64.RawStdEncoding

// HashSecret returns the PHC string of secret:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashSecret(secret string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

type argonHash struct {
	mem, time uint32
	threads   uint8
	salt, key []byte
}

func parseHash(s string) (argonHash, error) {
	var h argonHash
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, fmt.Errorf("%w: want $argon2id$v=19$m=…,t=…,p=…$salt$key", ErrBadHash)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return h, fmt.Errorf("%w: unsupported version %q", ErrBadHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.mem, &h.time, &h.threads); err != nil {
		return h, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	if h.mem < 8*1024 || h.mem > 4*1024*1024 || h.time < 1 || h.time > 64 || h.threads < 1 {
		return h, fmt.Errorf("%w: parameters out of range %q", ErrBadHash, parts[3])
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, fmt.Errorf("%w: salt", ErrBadHash)
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return h, fmt.Errorf("%w: key", ErrBadHash)
	}
	return h, nil
}

// ValidateHash reports whether s is a hash VerifySecret can use.
func ValidateHash(s string) error {
	_, err := parseHash(s)
	return err
}

// VerifySecret reports whether secret matches the stored hash, in constant
// time with respect to the secret.
func VerifySecret(hash, secret string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(secret), h.salt, h.time, h.mem, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}
