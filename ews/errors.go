package ews

import (
	"fmt"

	"github.com/calfed/calfed/freebusy"
)

// Code is an EWS response code: its name, the availability service's
// number (ErrorConstants; 0 for plain EWS codes) and the exception class
// Exchange names in MessageXml. NOTES §1.7.
type Code struct {
	Name      string
	Number    int
	Exception string
}

// Request-level availability errors: SOAP faults. NOTES §1.7.
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

// Per-mailbox availability errors: ResponseMessages. NOTES §1.7.
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
type mailboxError struct {
	Code    Code
	Message string
}

// outcomeError renders a mailbox's outcome as Exchange words it; nil for
// freebusy.OK. NOTES §1.7.
func outcomeError(r *freebusy.Result) *mailboxError {
	switch r.Outcome {
	case freebusy.OK:
		return nil
	case freebusy.NotFound:
		// The wording of Exchange's MailRecipientNotFoundException.
		return &mailboxError{ErrorMailRecipientNotFound,
			fmt.Sprintf("Unable to resolve e-mail address <>SMTP:%s to an Active Directory object.", r.Address)}
	case freebusy.NoAccess:
		return &mailboxError{ErrorNoFreeBusyAccess,
			fmt.Sprintf("The requester does not have permission to view free/busy information for %s.", r.Address)}
	case freebusy.TooBig:
		return &mailboxError{ErrorResultSetTooBig,
			fmt.Sprintf("The result set for %s contains %d items, more than the allowed %d.", r.Address, r.Count, r.Limit)}
	}
	return &mailboxError{ErrorFreeBusyGenerationFailed,
		fmt.Sprintf("Free/busy information for %s could not be generated.", r.Address)}
}
