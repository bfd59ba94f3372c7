package orgrel

import "slices"

// Decision is the outcome of an access decision.
type Decision struct {
	// Related is false when the caller's domain has no enabled
	// relationship: Exchange then answers as if the mailbox did not exist
	// (ErrorMailRecipientNotFound, docs/protocol.md §1.7).
	Related bool
	Level   Level
}

// DecideInternal is what our own users see of our mailboxes: availability,
// as Exchange's Default calendar permission within an organisation gives,
// and subject and location of a mailbox whose owner opted in to details
// for partners (LimitedDetails), since colleagues never see less than
// partners. Opting out of external sharing (None) does not hide a
// mailbox from colleagues. docs/protocol.md §1.5.
func DecideInternal(sharing Level) Decision {
	if sharing == LimitedDetails {
		return Decision{Related: true, Level: LimitedDetails}
	}
	return Decision{Related: true, Level: AvailabilityOnly}
}

// Decide is docs/protocol.md §1.5 for an external caller: the relationship's cap
// (None unless free/busy access is enabled), limited by the mailbox's own
// external sharing, and None outside the relationship's scope. rel is the
// relationship of the caller's domain, nil if there is none.
func Decide(rel *Relationship, sharing Level, groups []string) Decision {
	if rel == nil || !rel.Enabled {
		return Decision{}
	}
	level := None
	if rel.FreeBusyAccessEnabled {
		level = rel.FreeBusyAccessLevel
	}
	level = min(level, sharing)
	if rel.FreeBusyAccessScope != "" && !slices.Contains(groups, rel.FreeBusyAccessScope) {
		level = None
	}
	return Decision{Related: true, Level: level}
}
