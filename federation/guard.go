package federation

import (
	"bytes"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
)

// Guard lets through only SOAP requests whose wsse:Security header holds a
// valid delegation token for Offer, with the caller in the context.
type Guard struct {
	Validator *Validator
	Offer     string
	Limits    soap.Limits
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger     // nil discards
	// Refuse answers a refused request: the WS-Security fault on EWS
	// (SecurityFault), 401 on Autodiscover (Unauthorized). NOTES §4.3.
	Refuse func(w http.ResponseWriter, r *http.Request)

	// seen answers a token presented again from its bytes, before any
	// XML decoding: the fast path of the second request.
	seen byteCache
}

// Wrap guards next.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := g.Now
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r) // the handler answers GET and others itself
			return
		}
		body, err := soap.ReadRequest(r, g.Limits)
		if err == nil {
			var c Claims
			c, body, err = g.authenticate(body, now())
			if err == nil {
				log.Info("delegation token accepted", "outcome", "allowed", "offer", g.Offer, "email", c.Email,
					"token", c.TokenID, "remote", r.RemoteAddr, "duration", time.Since(start))
				r.Body = io.NopCloser(bytes.NewReader(body))
				r.ContentLength = int64(len(body))
				ctx := identity.NewContext(r.Context(), identity.Caller{Domain: c.Domain, Email: c.Email, TokenID: c.TokenID})
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		log.Warn("delegation token refused", "outcome", "denied", "offer", g.Offer, "remote", r.RemoteAddr,
			"reason", err.Error(), "duration", time.Since(start))
		g.Refuse(w, r)
	})
}

// authenticate validates the request's token and returns its claims and
// the body without the wsse:Security header, which the next handler has no
// use for and would otherwise decode again.
func (g *Guard) authenticate(body []byte, now time.Time) (Claims, []byte, error) {
	secStart, secEnd, edStart, edEnd, spanErr := tokenSpan(body)
	var tok []byte
	if spanErr == nil {
		tok = body[edStart:edEnd]
		if c, ok := g.seen.get(tok, now); ok {
			switch {
			case !g.Validator.AllowReuse:
				return Claims{}, nil, ErrReplay
			case c.Offer != g.Offer:
				return Claims{}, nil, ErrOffer
			}
			return c, strip(body, secStart, secEnd), nil
		}
	}
	c, err := g.check(body, now)
	if err != nil {
		return Claims{}, nil, err
	}
	if spanErr != nil {
		return c, body, nil
	}
	g.seen.put(tok, c, c.Expires.Add(g.Validator.skew()), now)
	return c, strip(body, secStart, secEnd), nil
}

// strip removes body[from:to] in place.
func strip(body []byte, from, to int) []byte {
	n := copy(body[from:], body[to:])
	return body[:from+n]
}

// check finds the one token in the one wsse:Security header and validates it.
func (g *Guard) check(body []byte, now time.Time) (Claims, error) {
	if _, err := soap.CheckLimits(body, g.Limits); err != nil {
		return Claims{}, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		return Claims{}, ErrNoToken
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || (env.NamespaceURI() != soap.NS11 && env.NamespaceURI() != soap.NS12) {
		return Claims{}, ErrNoToken
	}
	headers := childNS(env, env.NamespaceURI(), "Header")
	if len(headers) != 1 {
		return Claims{}, ErrNoToken
	}
	sec := childNS(headers[0], nsWSSE, "Security")
	switch {
	case len(sec) == 0:
		return Claims{}, ErrNoToken
	case len(sec) > 1:
		return Claims{}, ErrMalformed // which one would count? neither
	}
	eds := childNS(sec[0], nsXEnc, "EncryptedData")
	if len(eds) != 1 {
		return Claims{}, ErrNoToken
	}
	return g.Validator.Validate(eds[0], g.Offer, now)
}

// SecurityFault answers with the WS-Security fault Exchange gives for a
// refused token. NOTES §4.3; the faultcode is the standard WS-Security one
// (a GUESS for Exchange, ews-soap-faults.reconstructed.xml).
func SecurityFault(w http.ResponseWriter, r *http.Request) {
	f := soap.Fault{Code: "Sender", SubcodeNS: nsWSSE, Subcode: "InvalidSecurity", Reason: PublicMessage}
	soap.WriteResponse(w, soap.V11, http.StatusInternalServerError, f.Write(soap.V11, nil))
}

// Unauthorized answers 401, as Exchange's Autodiscover does. NOTES §2.1.
func Unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// byteCache maps exact token bytes to their claims until they expire. The
// hash only picks the bucket; a hit needs the bytes to be equal.
type byteCache struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64][]byteEntry
	n    int
}

type byteEntry struct {
	tok   []byte
	c     Claims
	until time.Time
}

func (b *byteCache) init() {
	if b.m == nil {
		b.seed = maphash.MakeSeed()
		b.m = map[uint64][]byteEntry{}
	}
}

func (b *byteCache) get(tok []byte, now time.Time) (Claims, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	for _, e := range b.m[maphash.Bytes(b.seed, tok)] {
		if now.Before(e.until) && bytes.Equal(e.tok, tok) {
			return e.c, true
		}
	}
	return Claims{}, false
}

func (b *byteCache) put(tok []byte, c Claims, until, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.init()
	h := maphash.Bytes(b.seed, tok)
	b.m[h] = append(b.m[h], byteEntry{bytes.Clone(tok), c, until})
	if b.n++; b.n%1024 == 0 {
		for k, es := range b.m {
			kept := es[:0]
			for _, e := range es {
				if now.Before(e.until) {
					kept = append(kept, e)
				}
			}
			if len(kept) == 0 {
				delete(b.m, k)
			} else {
				b.m[k] = kept
			}
		}
	}
}
