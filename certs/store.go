package certs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Storage keeps named secrets (autocert's Cache is the model). Get returns
// ErrMissing for a name never stored.
type Storage interface {
	Get(ctx context.Context, name string) ([]byte, error)
	Put(ctx context.Context, name string, data []byte) error
	Delete(ctx context.Context, name string) error
}

// Dir is Storage in a directory, each entry a file of mode 0600 written
// atomically (a temporary file renamed into place).
type Dir string

func (d Dir) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("certs: invalid storage name %q", name)
	}
	return filepath.Join(string(d), name), nil
}

func (d Dir) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrMissing
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable or writable by others (mode %v); chmod 600 it, and replace the key if others may have read it", ErrExposed, p, perm)
	}
	return io.ReadAll(f)
}

// ErrExposed is returned for a stored secret that others than its owner
// may read: a private key at mode 0644 is refused, not used.
var ErrExposed = errors.New("certs: secret not private")

func (d Dir) Put(ctx context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(string(d), "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

func (d Dir) Delete(ctx context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Slot names Exchange's three federation certificate places. docs/protocol.md §5.
type Slot string

const (
	Next     Slot = "next"     // staged: proofs published, not yet used
	Current  Slot = "current"  // decrypts and signs
	Previous Slot = "previous" // still decrypts tokens issued before a rollover
)

// Slots in order.
var Slots = []Slot{Next, Current, Previous}

func fileName(s Slot) string { return "federation-" + string(s) + ".pem" }

// Ring is the federation certificates in their slots.
type Ring struct {
	slots map[Slot]*Certificate
}

// Load reads the ring; missing slots are empty.
func Load(ctx context.Context, st Storage) (*Ring, error) {
	r := &Ring{slots: map[Slot]*Certificate{}}
	for _, s := range Slots {
		data, err := st.Get(ctx, fileName(s))
		if errors.Is(err, ErrMissing) {
			continue
		}
		if err != nil {
			return nil, err
		}
		c, err := Parse(data, "")
		if err != nil {
			return nil, fmt.Errorf("certs: the %s federation certificate: %w", s, err)
		}
		r.slots[s] = c
	}
	return r, nil
}

// Get returns the certificate in slot s, or nil.
func (r *Ring) Get(s Slot) *Certificate { return r.slots[s] }

// Put stores c in slot s.
func (r *Ring) Put(ctx context.Context, st Storage, s Slot, c *Certificate) error {
	data, err := c.EncodePEM()
	if err != nil {
		return err
	}
	if err := st.Put(ctx, fileName(s), data); err != nil {
		return err
	}
	r.slots[s] = c
	return nil
}

// ErrNothingToRoll is returned by Rollover with an empty next slot.
var ErrNothingToRoll = errors.New("certs: no next certificate to roll over to (make or import one first)")

// Rollover moves current to previous and next to current, as
// Set-FederationTrust -PublishFederationCertificate does. The writes go
// previous, current, then next, so a crash midway leaves the new current
// certificate in place and the old one still able to decrypt.
func (r *Ring) Rollover(ctx context.Context, st Storage) error {
	next := r.slots[Next]
	if next == nil {
		return ErrNothingToRoll
	}
	if cur := r.slots[Current]; cur != nil {
		if err := r.Put(ctx, st, Previous, cur); err != nil {
			return err
		}
	}
	if err := r.Put(ctx, st, Current, next); err != nil {
		return err
	}
	delete(r.slots, Next)
	return st.Delete(ctx, fileName(Next))
}

// ForKeyIdentifier returns the current or previous certificate whose
// Subject Key Identifier is ski: the keys that may decrypt a token. The
// next certificate is not used until it is rolled over. docs/protocol.md §4.3.
func (r *Ring) ForKeyIdentifier(ski []byte) (*Certificate, bool) {
	for _, s := range []Slot{Current, Previous} {
		c := r.slots[s]
		if c != nil && string(c.SKI()) == string(ski) {
			return c, true
		}
	}
	return nil, false
}
