package trust_test

import (
	"encoding/pem"
	"testing"
	"time"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/trust"
)

// PartnerKey reads whatever file a partner sent without panicking, and
// finds a key only in a certificate.
func FuzzPartnerKey(f *testing.F) {
	c, err := certs.Generate("partner.example", time.Now())
	if err != nil {
		f.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
	f.Add(cert)
	f.Add(append(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}}), cert...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, _, err := trust.PartnerKey(data)
		if (pub == nil) == (err == nil) {
			t.Errorf("PartnerKey = %v, %v: want a key or an error", pub, err)
		}
	})
}
