// Package managedelegation is [MS-OXWSLVID] ManageDelegation2, the service
// with which an organisation registers its federation certificate and
// domains with the federation gateway (docs/protocol.md §4.5, §4.7): the wire
// model, a Client as Exchange's Set-FederatedOrganizationIdentifier and
// Add-FederatedDomain use it, and a Server for the development token
// issuer that checks each domain's proof over DNS before accepting it.
package managedelegation

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/calfed/calfed/certs"
	"github.com/calfed/calfed/dnsproof"
	"github.com/calfed/calfed/internal/domainname"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/internal/wssec"
	"github.com/calfed/calfed/internal/xmltree"
)

// NS is the service's namespace; the SOAPAction of an operation is NS +
// "/" + its name.
const NS = "http://domains.live.com/Service/ManageDelegation2/V1.0"

// DefaultURL is the gateway's registration service.
const DefaultURL = "https://domains.live.com/service/managedelegation2.asmx"

// ProgramID is the program Exchange reserves its application's domain in.
const ProgramID = "ExchangeConnector"

// appURIPrefix marks an ApplicationUri made from a domain
// (docs/protocol.md §5); a proof for such a name is the domain's proof.
const appURIPrefix = "fydibohf25spdlt."

// Operations.
const (
	OpCreateAppID             = "CreateAppId"
	OpUpdateAppIDCertificate  = "UpdateAppIdCertificate"
	OpUpdateAppIDProperties   = "UpdateAppIdProperties"
	OpAddURI                  = "AddUri"
	OpRemoveURI               = "RemoveUri"
	OpReserveDomain           = "ReserveDomain"
	OpReleaseDomain           = "ReleaseDomain"
	OpGetDomainInfo           = "GetDomainInfo"
	hashAlgorithm             = "SHA-512"
	anonymous                 = "http://www.w3.org/2005/08/addressing/anonymous"
	maxMessage                = 64 << 10
	domainOwnershipProofLocal = "DomainOwnershipProofHeader"
)

// Limits bound a request or an answer.
var Limits = soap.Limits{MaxBytes: maxMessage}

// DomainState is a domain's state at the gateway.
type DomainState string

// The states GetDomainInfo reports.
const (
	PendingActivation DomainState = "PendingActivation"
	Active            DomainState = "Active"
	PendingRelease    DomainState = "PendingRelease"
)

// DomainInfo is GetDomainInfo's answer.
type DomainInfo struct {
	DomainName string
	AppID      string
	State      DomainState
}

// ErrorCode is the service's DomainError: the integer a fault's detail
// carries (docs/protocol.md §4.5, §4.7).
type ErrorCode int

// The codes this package writes or names.
const (
	PartnerNotAuthorized     ErrorCode = 1003
	MemberNotAuthenticated   ErrorCode = 1006
	InvalidDomainName        ErrorCode = 2001
	DomainNotReserved        ErrorCode = 2004
	DomainUnavailable        ErrorCode = 2005
	InvalidProgramID         ErrorCode = 2010
	ProofOfOwnershipNotValid ErrorCode = 2011
	DomainNotFederated       ErrorCode = 2014
	InvalidAppID             ErrorCode = 4001
	InvalidURI               ErrorCode = 4005
	InternalError            ErrorCode = 9001
)

var codeNames = map[ErrorCode]string{
	1001: "InvalidPartner", 1002: "InvalidPartnerCert", 1003: "PartnerNotAuthorized", 1004: "MemberNotAuthorized",
	1005: "InvalidManagementCertificate", 1006: "MemberNotAuthenticated",
	2001: "InvalidDomainName", 2004: "DomainNotReserved", 2005: "DomainUnavailable", 2010: "InvalidProgramId",
	2011: "ProofOfOwnershipNotValid", 2014: "DomainNotFederated",
	4001: "InvalidAppId", 4002: "InvalidAppIdAdminKey", 4003: "MaxAppIdsReached", 4004: "MaxUriReached", 4005: "InvalidUri",
	9001: "InternalError", 10001: "NYI",
}

func (c ErrorCode) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return strconv.Itoa(int(c))
}

// Error is a fault the service answered with.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("managedelegation: %s (%d): %s", e.Code, int(e.Code), e.Message)
}

// Is matches another *Error with the same code, so errors.Is(err,
// &Error{Code: ProofOfOwnershipNotValid}) asks for a kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrMessage: a request or answer is not a usable ManageDelegation2
// message.
var ErrMessage = errors.New("managedelegation: malformed message")

// Proof is a DomainOwnershipProofHeader: the domain acted on and the
// signature behind its DNS proof.
type Proof struct {
	Domain    string
	Signature []byte
}

// ProofDomain is the domain whose proof stands for name: name itself, or
// the domain an ApplicationUri was made from, in canonical form
// (internal/domainname). A name with none is returned as it is, and no
// proof of it verifies.
func ProofDomain(name string) string {
	name = strings.TrimSpace(name)
	d, err := domainname.Canonical(name)
	if err != nil {
		return name
	}
	return strings.TrimPrefix(d, appURIPrefix)
}

// NewProof signs name's proof domain with key, as Exchange does: the
// unhashed signature, whose SHA-512 is the published TXT value
// (docs/protocol.md §4.5, §4.7 says why not the hash).
func NewProof(key *rsa.PrivateKey, name string) (Proof, error) {
	sig, err := dnsproof.Signature(key, ProofDomain(name))
	return Proof{Domain: name, Signature: sig}, err
}

// param is one body parameter, in order.
type param struct{ name, value string }

// request writes op's envelope, signed with cert (X509Data, Timestamp
// only, no mustUnderstand: docs/protocol.md §4.5, §4.7), with the proof header
// when proof is set.
func request(url, op string, cert *certs.Certificate, now time.Time, proof *Proof, params ...param) ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="utf-8"`)
	env := doc.CreateElement("soap:Envelope")
	for _, ns := range [][2]string{{"soap", soap.NS11}, {"wsa", soap.NSAddressing}, {"wsse", soap.NSSecurity}, {"wsu", soap.NSUtility}} {
		env.CreateAttr("xmlns:"+ns[0], ns[1])
	}
	h := env.CreateElement("soap:Header")
	h.CreateElement("wsa:Action").SetText(NS + "/" + op)
	h.CreateElement("wsa:To").SetText(url)
	h.CreateElement("wsa:ReplyTo").CreateElement("wsa:Address").SetText(anonymous)
	sec := h.CreateElement("wsse:Security")
	if proof != nil {
		p := h.CreateElement(domainOwnershipProofLocal)
		p.CreateAttr("xmlns", NS)
		p.CreateElement("Domain").SetText(proof.Domain)
		p.CreateElement("HashAlgorithm").SetText(hashAlgorithm)
		p.CreateElement("Signature").SetText(b64(proof.Signature))
	}
	o := env.CreateElement("soap:Body").CreateElement(op)
	o.CreateAttr("xmlns", NS)
	for _, p := range params {
		o.CreateElement(p.name).SetText(p.value)
	}
	if err := wssec.Sign(sec, cert, wssec.ByCertificate, now); err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

// readEnvelope parses a SOAP 1.1 or 1.2 envelope within Limits and returns
// its root and the first child of its Body.
func readEnvelope(data []byte) (*etree.Element, *etree.Element, error) {
	if _, err := soap.CheckLimits(data, Limits); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" || (env.NamespaceURI() != soap.NS11 && env.NamespaceURI() != soap.NS12) {
		return nil, nil, fmt.Errorf("%w: not a SOAP envelope", ErrMessage)
	}
	bodies := xmltree.Children(env, env.NamespaceURI(), "Body")
	if len(bodies) != 1 || len(bodies[0].ChildElements()) != 1 {
		return nil, nil, fmt.Errorf("%w: the Body must hold one element", ErrMessage)
	}
	return env, bodies[0].ChildElements()[0], nil
}

// readFault reads a fault's DomainError: the integer text of the detail's
// first child (docs/protocol.md §4.5, §4.7).
func readFault(f *etree.Element) error {
	msg := ""
	for _, c := range f.ChildElements() {
		switch c.Tag {
		case "faultstring", "Reason":
			msg = strings.TrimSpace(c.Text())
			if t := c.SelectElement("Text"); t != nil {
				msg = strings.TrimSpace(t.Text())
			}
		}
	}
	for _, c := range f.ChildElements() {
		if c.Tag != "detail" && c.Tag != "Detail" {
			continue
		}
		if kids := c.ChildElements(); len(kids) > 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(kids[0].Text())); err == nil {
				return &Error{Code: ErrorCode(n), Message: msg}
			}
		}
	}
	return fmt.Errorf("managedelegation: fault without a DomainError: %s", msg)
}

func text(el *etree.Element, local string) string {
	if c := xmltree.Children(el, NS, local); len(c) == 1 {
		return strings.TrimSpace(c[0].Text())
	}
	return ""
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
