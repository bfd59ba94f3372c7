package conformance

import "github.com/calfed/calfed/internal/xmlsem"

// Difference is one place where two answers differ in meaning.
type Difference = xmlsem.Difference

// Comparison is how a case's answer is compared.
type Comparison string

const (
	// CompareXML compares documents by meaning: names by namespace URI,
	// attributes in any order, whitespace between elements ignored,
	// element order significant except where unorderedParents says the
	// schema does not care.
	CompareXML Comparison = "xml"
	// CompareFreeBusy is CompareXML with free/busy semantics: calendar
	// events as a set, times compared as instants where they carry an
	// offset, merged strings digit by digit.
	CompareFreeBusy Comparison = "freebusy"
	// CompareStatus compares only the status code (and the headers the
	// case names).
	CompareStatus Comparison = "status"
)

// DefaultIgnore are the volatile fields every comparison skips: they
// differ between any two answers of the same server. A name is an
// element's or attribute's local name; Element/@Attr names one element's
// attribute only, Parent/Child one parent's child element only.
var DefaultIgnore = []string{"MessageID", "RelatesTo", "ServerVersionInfo", "ChangeKey", "Timestamp", "CipherValue", "BinarySecurityToken", "EncryptedData",
	"Error/@Id", "Error/@Time", // POX Autodiscover errors: a request number and the server's clock
	"ItemId", "CalendarEventDetails/ID"} // item ids are each server's own

// unorderedParents are elements whose children the schemas declare as
// xs:all or as a set (a choice repeated), so their order carries no
// meaning. Everything else is a sequence.
var unorderedParents = []string{
	"UserSettings", // Autodiscover: the settings asked for, in no set order
	"DomainSettings",
	"Domains", // GetFederationInformation: the federated domains
	"TokenIssuers",
	"RequestedSettings",
}

// maxBody bounds what is read of a body: captured answers are never this
// large.
const maxBody = 32 << 20

// CompareXMLBodies reports where got differs from expected under mode,
// skipping DefaultIgnore and ignore (names as in DefaultIgnore).
func CompareXMLBodies(expected, got []byte, mode Comparison, ignore []string) ([]Difference, error) {
	return xmlsem.Compare(expected, got, xmlsem.Options{
		FreeBusy:  mode == CompareFreeBusy,
		Ignore:    append(append([]string(nil), DefaultIgnore...), ignore...),
		Unordered: unorderedParents,
	})
}
