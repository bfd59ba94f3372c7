package store

import "errors"

// Errors; match with errors.Is.
var (
	ErrNotFound     = errors.New("store: not found")
	ErrExists       = errors.New("store: already exists")
	ErrConflict     = errors.New("store: changed by someone else since it was read")
	ErrDomainTaken  = errors.New("store: domain belongs to another relationship")
	ErrSchemaTooNew = errors.New("store: database schema is newer than this calfed")
	ErrInvalid      = errors.New("store: invalid value")
	ErrInUse        = errors.New("store: still referenced")
)
