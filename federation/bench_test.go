package federation

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"testing"
	"time"
)

// Full validation of a fresh token: parse, RSA-OAEP unwrap, AES decrypt,
// XML signature, claims. Compare with BenchmarkRawCrypto: goal within 1.5×.
func BenchmarkValidate(b *testing.B) {
	w := newWorld(b)
	var toks [][]byte
	for range 64 {
		tok, err := w.issue().Token()
		if err != nil {
			b.Fatal(err)
		}
		toks = append(toks, xmlOf(b, tok))
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i%len(toks) == 0 {
			w.v = &Validator{Trust: w.v.Trust} // fresh caches: every token new again
		}
		if _, err := w.v.Validate(toks[i%len(toks)], OfferFreeBusy, t0.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// The unavoidable part: one RSA-2048 OAEP decryption and one RSA-2048
// PKCS#1 v1.5 verification.
func BenchmarkRawCrypto(b *testing.B) {
	w := newWorld(b)
	key := make([]byte, 32)
	rand.Read(key)
	wrapped, _ := rsa.EncryptOAEP(sha1.New(), rand.Reader, &w.ours.Key.PublicKey, key, nil)
	digest := sha1.Sum([]byte("signed info"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, w.issuer.Key, crypto.SHA1, digest[:])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.DecryptOAEP(sha1.New(), nil, w.ours.Key, wrapped, nil); err != nil {
			b.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(&w.issuer.Key.PublicKey, crypto.SHA1, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// A token presented again: refused (the default) or accepted (AllowReuse)
// from the cache, without RSA or signature work.
func BenchmarkValidateSecondPresentation(b *testing.B) {
	for _, reuse := range []bool{false, true} {
		name := "refused"
		if reuse {
			name = "reused"
		}
		b.Run(name, func(b *testing.B) {
			w := newWorld(b)
			w.v.AllowReuse = reuse
			el, _ := w.issue().Token()
			tok := xmlOf(b, el)
			if _, err := w.v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, err := w.v.Validate(tok, OfferFreeBusy, t0.Add(time.Minute))
				if (err == nil) != reuse {
					b.Fatal(err)
				}
			}
		})
	}
}
