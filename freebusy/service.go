package freebusy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/calendar"
	"github.com/calfed/calfed/internal/accesslog"
	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/reuse"
	"github.com/calfed/calfed/orgrel"
)

// Directory is where mailboxes and their events come from
// (*calendar.Directory).
type Directory interface {
	Lookup(address string) (*calendar.Mailbox, bool)
	// AppendEvents appends the mailbox's events overlapping [from, to).
	AppendEvents(ctx context.Context, dst []calendar.Event, address string, from, to time.Time) ([]calendar.Event, error)
}

// Access decides what a caller may see of a mailbox (*orgrel.Policy, or
// the server's live policy).
type Access interface {
	Access(caller identity.Caller, mailbox string, groups []string) orgrel.Decision
}

// Options configure a Service. Directory and Access are required.
type Options struct {
	Directory    Directory
	Access       Access
	Logger       *slog.Logger // nil discards
	MaxResultSet int          // events per mailbox; default 1000 (Exchange's MaximumResultSetSize)
	// Remote answers Ask for mailboxes outside the directory
	// (partner.Asker); nil: they are NoPartner.
	Remote Remote
	// Internal gives our mailboxes' sharing for Ask's internal access
	// decision; nil: AvailabilityOnly for every mailbox.
	Internal Internal
}

// WorkingHours are a mailbox's working days and hours in its own zone.
type WorkingHours = calendar.WorkingHours

// Service answers free/busy queries.
type Service struct {
	opt Options
	log *slog.Logger
}

// New returns a Service.
func New(opt Options) *Service {
	if opt.MaxResultSet <= 0 {
		opt.MaxResultSet = 1000
	}
	s := &Service{opt: opt, log: opt.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Query is one free/busy question about several mailboxes.
type Query struct {
	Mailboxes  []string  // addresses as asked, in order
	Start, End time.Time // the window, End after Start
	View       View      // the view requested; not None
	// Interval is the length of one merged digit's slot; required when
	// View is merged.
	Interval time.Duration
	// Legacy selects the digit semantics of callers older than
	// Exchange2012: no WorkingElsewhere, and 4 meaning NoData. docs/protocol.md §1.6.
	Legacy bool
}

// ErrInvalidQuery is returned for a query no answer can be built for;
// fronts validate their input so that callers never see it.
var ErrInvalidQuery = errors.New("freebusy: invalid query")

// Check reports whether q can be answered.
func (q *Query) Check() error {
	switch {
	case !q.Start.Before(q.End):
		return fmt.Errorf("%w: the window's start is not before its end", ErrInvalidQuery)
	case q.View == ViewNone:
		return fmt.Errorf("%w: no view requested", ErrInvalidQuery)
	case q.View.Merged() && q.Interval <= 0:
		return fmt.Errorf("%w: a merged view needs a positive interval", ErrInvalidQuery)
	}
	return nil
}

// Outcome is what became of one mailbox of a query.
type Outcome int

const (
	// OK: the result holds the granted view.
	OK Outcome = iota
	// NotFound: no such mailbox. docs/protocol.md §1.7.
	NotFound
	// NoAccess: the caller may see nothing of the mailbox: its
	// organisation has no enabled relationship with us, or the
	// relationship's level or scope or the mailbox's own sharing allows
	// nothing. Exchange answers all of these alike, with
	// ErrorNoFreeBusyAccess; Result.Unrelated tells the first apart, as
	// Exchange's diagnostics do. docs/protocol.md §1.5, §1.7.
	NoAccess
	// GenerationFailed: the calendar could not be read.
	GenerationFailed
	// TooBig: more events than MaxResultSet in the window.
	TooBig
)

var outcomeNames = [...]string{"OK", "NotFound", "NoAccess", "GenerationFailed", "TooBig"}

var remoteOutcomeNames = map[Outcome]string{NoPartner: "NoPartner", PartnerFailed: "PartnerFailed", PartnerError: "PartnerError"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	if s, ok := remoteOutcomeNames[o]; ok {
		return s
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is the answer for one mailbox.
type Result struct {
	Address string // as asked
	Outcome Outcome
	// Count is the number of events in the window and Limit the most
	// allowed, when Outcome is TooBig.
	Count, Limit int
	// Unrelated is set, when Outcome is NoAccess, if no enabled
	// relationship covers the caller at all: Exchange decides that before
	// it opens the mailbox (its LID 40764; the other causes are LID
	// 44348). docs/protocol.md §1.5.
	Unrelated bool
	// Code and Message are, for a partner's mailbox (Ask), the response
	// code and text the partner answered with ("NoError" when it gave the
	// view), or why it could not be asked; empty for ours.
	Code, Message string

	// The rest is set when Outcome is OK.
	View   View           // the view granted: never wider than requested or allowed
	Events []Event        // when View.Events(); redacted for the caller
	Merged []byte         // the merged digits, when View.Merged()
	Zone   *time.Location // the mailbox's time zone; nil when a partner gave none
	// WorkingHours are the mailbox's working hours, or DefaultWorkingHours
	// when none are configured. Never nil when Outcome is OK for one of
	// our mailboxes; for a partner's, nil when the partner gave none.
	WorkingHours *WorkingHours

	buf *resultBuf // where Events and Merged live, until Release
}

// DefaultWorkingHours are the hours a mailbox without a working-hours
// configuration gets: 08:00 to 17:00, Monday to Friday, in the mailbox's
// own zone. Exchange's availability service has no default and would omit
// the element, but Outlook on the web stores exactly these hours on every
// mailbox that lacks them, so they are what a typical Exchange mailbox
// answers with. docs/protocol.md §1.6.
var DefaultWorkingHours = WorkingHours{
	Days:  []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	Start: 8 * time.Hour,
	End:   17 * time.Hour,
}

// Mailbox answers q for one address. It never fails: every problem is an
// Outcome. q must pass Check. What the caller was given is noted in the
// request's access log entry (internal/accesslog).
func (s *Service) Mailbox(ctx context.Context, caller identity.Caller, q *Query, address string) Result {
	mb, found := s.opt.Directory.Lookup(address)
	r := s.answer(ctx, s.opt.Access, caller, q, address, mb, found)
	canonical, view := address, "None"
	if found {
		canonical = mb.Address
	}
	if r.Outcome == OK {
		view = r.View.String()
	}
	accesslog.Note(ctx, canonical, view, r.Outcome.String())
	return r
}

func (s *Service) mailbox(ctx context.Context, access Access, caller identity.Caller, q *Query, address string) Result {
	mb, ok := s.opt.Directory.Lookup(address)
	return s.answer(ctx, access, caller, q, address, mb, ok)
}

// answer is mailbox for a mailbox already looked up.
func (s *Service) answer(ctx context.Context, access Access, caller identity.Caller, q *Query, address string, mb *calendar.Mailbox, ok bool) Result {
	if !ok {
		return Result{Address: address, Outcome: NotFound}
	}
	dec := access.Access(caller, mb.Address, mb.Groups)
	if !dec.Related {
		// Exchange's target answers a caller without an (enabled)
		// relationship with ErrorNoFreeBusyAccess for a mailbox it has.
		// docs/protocol.md §1.5, §1.7.
		return Result{Address: address, Outcome: NoAccess, Unrelated: true}
	}
	if dec.Level == orgrel.None {
		return Result{Address: address, Outcome: NoAccess}
	}
	view := Granted(q.View, dec.Level)
	buf := getEvents()
	defer putEvents(buf)
	events, err := s.opt.Directory.AppendEvents(ctx, buf.evs[:0], mb.Address, q.Start, q.End)
	buf.evs = events
	if err != nil {
		// An unavailable calendar was logged with its cause when it was
		// loaded; repeating that on every request would bury it.
		level := slog.LevelError
		if errors.Is(err, calendar.ErrUnavailable) {
			level = slog.LevelDebug
		}
		s.log.Log(ctx, level, "free/busy generation failed", "mailbox", mb.Address, "err", err)
		return Result{Address: address, Outcome: GenerationFailed}
	}
	if len(events) > s.opt.MaxResultSet {
		return Result{Address: address, Outcome: TooBig, Count: len(events), Limit: s.opt.MaxResultSet}
	}
	r := Result{Address: address, View: view, Zone: mb.Location, WorkingHours: mb.WorkingHours}
	if r.WorkingHours == nil {
		wh := DefaultWorkingHours
		wh.Days = slices.Clone(wh.Days)
		r.WorkingHours = &wh
	}
	if view.Events() || view.Merged() {
		r.buf = resultBufs.Get()
	}
	if view.Events() {
		r.Events = slices.Grow(r.buf.evs[:0], len(events))[:len(events)]
		redactAll(r.Events, events, view.Detailed(), q.Legacy)
	}
	switch {
	case view.Merged() && view.Events():
		r.Merged = mergedShown(r.buf.merged[:0], r.Events, q.Start, q.End, q.Interval, q.Legacy)
	case view.Merged():
		r.Merged = Merged(r.buf.merged[:0], events, q.Start, q.End, q.Interval, q.Legacy)
	}
	return r
}

// resultBuf holds a result's events and merged digits, reused once the
// result is released.
type resultBuf struct {
	evs    []Event
	merged []byte
}

// resultBufs and eventBufs keep a few buffers whatever the garbage
// collector does: the big ones are the ones worth keeping.
var resultBufs = reuse.New(16, func() *resultBuf { return new(resultBuf) })

// Release hands the result's events and merged digits back for later
// queries, so that a front answering many requests does not allocate
// them anew for each. The result must not be used after; a caller that
// keeps its results simply does not call it.
func (r *Result) Release() {
	b := r.buf
	if b == nil {
		return
	}
	if r.Events != nil {
		b.evs = r.Events
	}
	if r.Merged != nil {
		b.merged = r.Merged
	}
	r.buf, r.Events, r.Merged = nil, nil, nil
	if cap(b.evs) > maxPooled {
		return
	}
	b.evs = b.evs[:cap(b.evs)]
	clear(b.evs) // no item pointers kept alive
	b.evs, b.merged = b.evs[:0], b.merged[:0]
	resultBufs.Put(b)
}

// maxPooled bounds the events a pooled buffer holds: more than any
// result-set limit in use, and far less than memory.
const maxPooled = 1 << 17

// eventBuf is a reusable calendar read: the calendar's events are only
// read here, and what leaves is the redacted copy.
type eventBuf struct{ evs []calendar.Event }

var eventBufs = reuse.New(16, func() *eventBuf { return new(eventBuf) })

func getEvents() *eventBuf { return eventBufs.Get() }

// putEvents keeps buffers of ordinary size, cleared of item pointers.
func putEvents(b *eventBuf) {
	if cap(b.evs) > maxPooled {
		return
	}
	clear(b.evs)
	b.evs = b.evs[:0]
	eventBufs.Put(b)
}

// Query answers q for every mailbox, in order, spreading the mailboxes
// over the available processors.
func (s *Service) Query(ctx context.Context, caller identity.Caller, q *Query) ([]Result, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	out := make([]Result, len(q.Mailboxes))
	Parallel(len(out), func(i int) { out[i] = s.Mailbox(ctx, caller, q, q.Mailboxes[i]) })
	return out, nil
}

// Parallel runs do(0) … do(n-1) on up to GOMAXPROCS goroutines and
// returns when all have returned: a 100-mailbox, 62-day detailed answer is
// tens of thousands of events, worth the processors a front has.
func Parallel(n int, do func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			do(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}
