package autodiscover

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/calfed/calfed/internal/xmlsem"
)

// Any body gets a well-formed XML answer or an empty 401, never a panic.
func FuzzSOAP(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.request.xml")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add(fedInfo("<Domain>contoso.com</Domain>"))
	h := fixture(docsTrust)
	f.Fuzz(func(t *testing.T, body string) {
		status, out := call(t, h.SOAP(false), "/", body, &partner)
		if status == http.StatusUnauthorized {
			return
		}
		if _, err := xmlsem.Canonical(out); err != nil {
			t.Fatalf("status %d, answer is not XML: %v\n%s", status, err, out)
		}
	})
}

func FuzzPOX(f *testing.F) {
	f.Add(pox("bob@fabrikam.example", nsPOXOutlook))
	f.Add(pox("old@fabrikam.example", nsPOXOutlook))
	h := fixture(docsTrust)
	f.Fuzz(func(t *testing.T, body string) {
		status, out := call(t, h.POX(), "/", body, &partner)
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		if _, err := xmlsem.Canonical(out); err != nil {
			t.Fatalf("answer is not XML: %v\n%s", err, out)
		}
	})
}
