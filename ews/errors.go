package ews

import (
	"fmt"
	"strconv"

	"github.com/calfed/calfed/freebusy"
)

// Code is an EWS response code: its name, the availability service's
// number (ErrorConstants; 0 for plain EWS codes) and the exception class
// Exchange names in MessageXml. docs/protocol.md §1.7.
type Code struct {
	Name      string
	Number    int
	Exception string
}

// Request-level availability errors: SOAP faults. docs/protocol.md §1.7.
var (
	ErrorRequestStreamTooBig           = Code{"ErrorRequestStreamTooBig", 5000, ""}
	ErrorMailboxDataArrayEmpty         = Code{"ErrorMailboxDataArrayEmpty", 5001, ""}
	ErrorMailboxDataArrayTooBig        = Code{"ErrorMailboxDataArrayTooBig", 5002, ""}
	ErrorTimeIntervalTooBig            = Code{"ErrorTimeIntervalTooBig", 5003, ""}
	ErrorInvalidMergedFreeBusyInterval = Code{"ErrorInvalidMergedFreeBusyInterval", 5004, ""}
	ErrorInvalidTimeInterval           = Code{"ErrorInvalidTimeInterval", 5010, ""}
	ErrorInvalidFreeBusyViewType       = Code{"ErrorInvalidFreeBusyViewType", 5026, ""}
	ErrorMissingArgument               = Code{"ErrorMissingArgument", 5028, ""}
	ErrorTimeZone                      = Code{"ErrorTimeZone", 0, ""}
	ErrorSchemaValidation              = Code{"ErrorSchemaValidation", 0, ""}
	ErrorInvalidRequest                = Code{"ErrorInvalidRequest", 0, ""}
	ErrorInvalidOperation              = Code{"ErrorInvalidOperation", 0, ""}
	ErrorInternalServerError           = Code{"ErrorInternalServerError", 0, ""}
	ErrorAccessDenied                  = Code{"ErrorAccessDenied", 0, ""}
)

// Per-mailbox availability errors: ResponseMessages. docs/protocol.md §1.7.
var (
	ErrorMailRecipientNotFound    = Code{"ErrorMailRecipientNotFound", 5009, "MailRecipientNotFoundException"}
	ErrorNoFreeBusyAccess         = Code{"ErrorNoFreeBusyAccess", 5037, "NoFreeBusyAccessException"}
	ErrorFreeBusyGenerationFailed = Code{"ErrorFreeBusyGenerationFailed", 5041, "FreeBusyGenerationFailedException"}
	ErrorResultSetTooBig          = Code{"ErrorResultSetTooBig", 5006, "ResultSetTooBigException"}
)

// requestError is a request-level problem, answered with a SOAP fault.
type requestError struct {
	Code    Code
	Message string
}

func (e *requestError) Error() string { return "ews: " + e.Code.Name + ": " + e.Message }

func faultf(c Code, format string, args ...any) *requestError {
	return &requestError{Code: c, Message: fmt.Sprintf(format, args...)}
}

// mailboxError is a per-mailbox problem, answered in its ResponseMessage.
// Message is ExceptionMessage; Text, when set, is MessageText (else
// Message is used for both).
type mailboxError struct {
	Code    Code
	Message string
	Text    string
}

// noFreeBusyAccessMessage is the text of Exchange's NoFreeBusyAccessException
// (its resource descNoFreeBusyAccess). docs/protocol.md §1.7.
const noFreeBusyAccessMessage = "The caller does not have access to free/busy data."

// availabilityExceptionText is what Exchange writes as MessageText for an
// availability exception: the exception's ToString (the full class name,
// a colon, the message), a line break, then the server name and the
// diagnostic LID. Exchange names its exception classes in
// Microsoft.Exchange.InfoWorker.Common.Availability; ExceptionType in
// MessageXml carries the short name. docs/protocol.md §1.7.
func availabilityExceptionText(exception, message, server string, lid int) string {
	return "Microsoft.Exchange.InfoWorker.Common.Availability." + exception + ": " + message +
		"\r\n. Name of the server where exception originated: " + server + ". LID: " + strconv.Itoa(lid)
}

// Exchange's diagnostic LIDs for no free/busy access: no enabled
// relationship, checked before the mailbox is opened, and every other
// cause, checked after. docs/protocol.md §1.5.
const (
	lidNoRelationship = 40764
	lidNoAccess       = 44348
)

// outcomeError renders a mailbox's outcome as Exchange words it; nil for
// freebusy.OK. docs/protocol.md §1.7.
func outcomeError(r *freebusy.Result, server string) *mailboxError {
	switch r.Outcome {
	case freebusy.OK:
		return nil
	case freebusy.NotFound:
		// The wording of Exchange's MailRecipientNotFoundException.
		return &mailboxError{Code: ErrorMailRecipientNotFound, Message: fmt.Sprintf("Unable to resolve e-mail address <>SMTP:%s to an Active Directory object.", r.Address)}
	case freebusy.NoAccess:
		lid := lidNoAccess
		if r.Unrelated {
			lid = lidNoRelationship
		}
		return &mailboxError{Code: ErrorNoFreeBusyAccess, Message: noFreeBusyAccessMessage,
			Text: availabilityExceptionText(ErrorNoFreeBusyAccess.Exception, noFreeBusyAccessMessage, server, lid)}
	case freebusy.TooBig:
		return &mailboxError{Code: ErrorResultSetTooBig, Message: fmt.Sprintf("The result set for %s contains %d items, more than the allowed %d.", r.Address, r.Count, r.Limit)}
	}
	return &mailboxError{Code: ErrorFreeBusyGenerationFailed, Message: fmt.Sprintf("Free/busy information for %s could not be generated.", r.Address)}
}
