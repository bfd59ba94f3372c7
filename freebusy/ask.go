package freebusy

import (
	"context"
	"time"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/orgrel"
)

// Outcomes of mailboxes outside our directory, which Ask hands to the
// Remote: the partner organisation's availability service answers them.
const (
	// NoPartner: no enabled organisation relationship covers the
	// mailbox's domain, so there is no one to ask; a requesting Exchange
	// reports ErrorMailRecipientNotFound then, as it cannot route the
	// address. docs/protocol.md §1.7.
	NoPartner Outcome = iota + 100
	// PartnerFailed: the partner could not be asked, or gave no usable
	// answer (a timeout, an HTTP or SOAP error, a circuit breaker open
	// after repeated failures); Code and Message say which.
	PartnerFailed
	// PartnerError: the partner answered for the mailbox with an error of
	// its own not among NotFound, NoAccess and GenerationFailed; Code and
	// Message are its own.
	PartnerError
)

// Response codes: the EWS ResponseCodeType values a result stands for,
// as EWS, the JSON front and the command line show them.
// docs/protocol.md §1.7.
const (
	CodeNoError                      = "NoError"
	CodeMailRecipientNotFound        = "ErrorMailRecipientNotFound"
	CodeNoFreeBusyAccess             = "ErrorNoFreeBusyAccess"
	CodeFreeBusyGenerationFailed     = "ErrorFreeBusyGenerationFailed"
	CodeResultSetTooBig              = "ErrorResultSetTooBig"
	CodeProxyRequestProcessingFailed = "ErrorProxyRequestProcessingFailed"
	CodeTimeoutExpired               = "ErrorTimeoutExpired"
)

// ResponseCode is the EWS response code r stands for: the partner's own
// for a partner's mailbox (Code), else the one Exchange gives for the
// outcome.
func (r *Result) ResponseCode() string {
	if r.Code != "" {
		return r.Code
	}
	switch r.Outcome {
	case OK:
		return CodeNoError
	case NotFound:
		return CodeMailRecipientNotFound
	case NoAccess:
		return CodeNoFreeBusyAccess
	case TooBig:
		return CodeResultSetTooBig
	case NoPartner:
		return CodeMailRecipientNotFound
	case PartnerFailed:
		return CodeProxyRequestProcessingFailed
	}
	return CodeFreeBusyGenerationFailed
}

// OutcomeOf is the outcome a partner's response code stands for.
func OutcomeOf(code string) Outcome {
	switch code {
	case CodeNoError:
		return OK
	case CodeMailRecipientNotFound:
		return NotFound
	case CodeNoFreeBusyAccess:
		return NoAccess
	case CodeFreeBusyGenerationFailed:
		return GenerationFailed
	case CodeResultSetTooBig:
		return TooBig
	}
	return PartnerError
}

// RemoteEvent is a busy period a partner returned, as fronts show ours:
// subject and location only when the partner gave them in a detailed view
// and the item is not private.
func RemoteEvent(start, end time.Time, busy BusyType, detailed, private bool, subject, location string) Event {
	e := Event{Start: start, End: end, Busy: busy, Details: detailed, Private: detailed && private}
	if detailed && !private && (subject != "" || location != "") {
		e.details, e.subject, e.location = true, subject, location
	}
	return e
}

// Remote answers for mailboxes outside our directory on behalf of one of
// our users (partner.Asker): one Result per address, in order. Failures
// are outcomes (NoPartner, PartnerFailed, PartnerError, NotFound,
// NoAccess), never errors.
type Remote interface {
	Ask(ctx context.Context, user string, q *Query, addresses []string) []Result
}

// Internal decides what our own users see of our mailboxes (the live
// policy's Sharing): orgrel.DecideInternal of the mailbox's sharing.
type Internal interface {
	Sharing(mailbox string) orgrel.Level
}

// Ask answers q for one of our users, user: our mailboxes as
// orgrel.DecideInternal allows, the others through the Remote in one call
// (which asks each partner once), all in q's order. An anonymous caller
// (user empty) gets our mailboxes only: partners are asked on behalf of a
// user. Without a Remote, addresses outside our directory are NoPartner.
func (s *Service) Ask(ctx context.Context, user string, q *Query) ([]Result, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	out := make([]Result, len(q.Mailboxes))
	var ours, theirs []int
	for i, a := range q.Mailboxes {
		if _, ok := s.opt.Directory.Lookup(a); ok {
			ours = append(ours, i)
		} else {
			theirs = append(theirs, i)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if len(theirs) == 0 {
			return
		}
		if s.opt.Remote == nil || user == "" {
			for _, i := range theirs {
				out[i] = Result{Address: q.Mailboxes[i], Outcome: NoPartner}
			}
			return
		}
		addrs := make([]string, len(theirs))
		for j, i := range theirs {
			addrs[j] = q.Mailboxes[i]
		}
		rs := s.opt.Remote.Ask(ctx, user, q, addrs)
		for j, i := range theirs {
			if j < len(rs) {
				out[i] = rs[j]
			} else {
				out[i] = Result{Address: q.Mailboxes[i], Outcome: PartnerFailed, Message: "no answer"}
			}
		}
	}()
	access := internalAccess{sharing: s.opt.Internal, anonymous: user == ""}
	caller := identity.Caller{Email: user}
	Parallel(len(ours), func(j int) {
		i := ours[j]
		out[i] = s.mailbox(ctx, access, caller, q, q.Mailboxes[i])
	})
	<-done
	return out, nil
}

// internalAccess is the access decision for our own users.
// An anonymous caller (allowed from configured sources only) sees
// availability, never details.
type internalAccess struct {
	sharing   Internal
	anonymous bool
}

func (a internalAccess) Access(_ identity.Caller, mailbox string, _ []string) orgrel.Decision {
	l := orgrel.AvailabilityOnly
	if a.sharing != nil && !a.anonymous {
		l = a.sharing.Sharing(mailbox)
	}
	return orgrel.DecideInternal(l)
}
