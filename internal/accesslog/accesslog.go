// Package accesslog is calfed's information-governance access log: for
// every request a verified partner makes, one log line and one store
// record (orgrel.AccessEntry) saying which organisation and relationship
// asked, through which account or on behalf of which user, about which
// of our mailboxes, which view each was granted and how the request
// ended. Health-service partners require this record of every
// disclosure.
//
// A Recorder wraps the handlers a verified caller reaches; the cores that
// decide per mailbox (freebusy, mailtips, autodiscover) report each
// mailbox with Note as they decide it. Records are written to the store
// in batches by Run, which also prunes those older than the retention.
package accesslog

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/internal/identity"
	"github.com/calfed/calfed/internal/soap"
	"github.com/calfed/calfed/orgrel"
)

// Store keeps the records (*store.DB).
type Store interface {
	RecordAccess(ctx context.Context, entries []orgrel.AccessEntry) error
	PruneAccessLog(ctx context.Context, before time.Time, limit int) (int64, error)
}

// DefaultRetention is how long records are kept when Options.Retention
// is zero: a year.
const DefaultRetention = 365 * 24 * time.Hour

// Options configure a Recorder. The zero value logs nothing and keeps no
// records.
type Options struct {
	// Store keeps a record of each request; nil keeps none (the log line
	// is still written). Run must run while requests are served.
	Store Store
	// Logger gets one line per request, at INFO. Nil discards.
	Logger *slog.Logger
	// Server names this server in the records (live.Policy.ID).
	Server string
	// Relationship names our relationship covering a partner domain now.
	Relationship func(domain string) (name string, ok bool)
	// Observe is called with every finished entry, before it is queued
	// (the metrics). Nil: nothing.
	Observe func(e *orgrel.AccessEntry)
	// Retention is how long records are kept; default DefaultRetention.
	Retention time.Duration
	// Limits bound the reading of a request body for its operation's
	// name; the body is already in memory in calfed's router.
	Limits soap.Limits
	Now    func() time.Time // default time.Now
	// QueueSize is how many records may wait for the store; a request
	// that finds the queue full waits for room. Default 10000.
	QueueSize int
	// FlushDelay is how long records gather before they are written
	// together; default 100ms.
	FlushDelay time.Duration
}

// maxBatch is the most records written in one transaction.
const maxBatch = 500

// Recorder logs and records partner requests.
type Recorder struct {
	opt       Options
	log       *slog.Logger
	retention atomic.Int64
	dropped   atomic.Int64

	// The records waiting for the store. A request appends its record
	// under mu and wakes Run only when it is the first of a batch (or
	// makes a full one), so that a busy server wakes Run once a batch,
	// not once a request.
	mu      sync.Mutex
	pending []orgrel.AccessEntry
	room    chan struct{} // closed when Run takes pending: requests waiting for room retry
	wake    chan struct{} // one slot: pending has a record for Run to gather
}

// New returns a Recorder.
func New(opt Options) *Recorder {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 10000
	}
	if opt.FlushDelay <= 0 {
		opt.FlushDelay = 100 * time.Millisecond
	}
	r := &Recorder{opt: opt, log: opt.Logger, room: make(chan struct{}), wake: make(chan struct{}, 1)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.SetRetention(opt.Retention)
	return r
}

// SetRetention changes how long records are kept (zero: the default),
// from the next pruning on.
func (r *Recorder) SetRetention(d time.Duration) {
	if d <= 0 {
		d = DefaultRetention
	}
	r.retention.Store(int64(d))
}

// Retention is how long records are kept.
func (r *Recorder) Retention() time.Duration { return time.Duration(r.retention.Load()) }

// request is what the handlers report about one request as it is served.
type request struct {
	mu        sync.Mutex
	mailboxes []orgrel.MailboxAccess
	reason    string
}

type ctxKey struct{}

// Note records that the request in ctx was given view of mailbox
// (address: ours, canonical when we have it) with the mailbox's outcome.
// A request outside a Recorder notes nothing. Safe for concurrent use.
func Note(ctx context.Context, address, view, outcome string) {
	if q, ok := ctx.Value(ctxKey{}).(*request); ok {
		q.mu.Lock()
		q.mailboxes = append(q.mailboxes, orgrel.MailboxAccess{Address: address, View: view, Outcome: outcome})
		q.mu.Unlock()
	}
}

// Fail records why the request in ctx failed, for its record.
func Fail(ctx context.Context, reason string) {
	if q, ok := ctx.Value(ctxKey{}).(*request); ok {
		q.mu.Lock()
		q.reason = reason
		q.mu.Unlock()
	}
}

// operations are the names an entry's operation takes; any other is
// "other", so that what a partner sends cannot grow the metrics.
var operations = map[string]bool{
	"GetUserAvailability": true, "GetServerTimeZones": true, "GetMailTips": true,
	"GetUserSettings": true, "GetDomainSettings": true, "GetFederationInformation": true,
	"GetOrganizationRelationshipSettings": true,
}

// Operation names a SOAP request's operation: the first element of its
// body, without the Request or RequestMessage suffix, or "other".
func Operation(body []byte, l soap.Limits) string {
	n, ok := soap.Operation(body, l)
	return operationName(n, ok)
}

// RequestOperation is Operation of the body of req, which it leaves to
// be read (soap.RequestOperation): the operation a router found already
// is not looked for again.
func RequestOperation(req *http.Request, l soap.Limits) string {
	n, ok := soap.RequestOperation(req, l)
	return operationName(n, ok)
}

func operationName(n xml.Name, ok bool) string {
	if !ok {
		return "other"
	}
	op := strings.TrimSuffix(strings.TrimSuffix(n.Local, "RequestMessage"), "Request")
	if !operations[op] {
		return "other"
	}
	return op
}

// Wrap serves next, and for each request with a verified caller in its
// context (identity) writes its entry. operation names a request's
// operation when it is fixed (Autodiscover POX); empty: the SOAP body's
// (Operation). Requests without a caller pass through unrecorded: they
// see nothing of any mailbox.
func (r *Recorder) Wrap(operation string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		caller, ok := identity.FromContext(req.Context())
		if !ok {
			next.ServeHTTP(w, req)
			return
		}
		start := r.opt.Now()
		op := operation
		if op == "" {
			op = "other"
			if req.Method == http.MethodPost {
				op = RequestOperation(req, r.opt.Limits)
			}
		}
		// The request's notes and its writer, one allocation.
		t := &tracked{}
		q, sw := &t.request, &t.statusWriter
		sw.ResponseWriter, sw.q = w, q
		next.ServeHTTP(sw, req.WithContext(context.WithValue(req.Context(), ctxKey{}, q)))
		e := orgrel.AccessEntry{At: start, Server: r.opt.Server, Domain: caller.Domain, Account: caller.Account, User: caller.Email,
			RequestorDomain: caller.RequestorDomain, Operation: op, Remote: req.RemoteAddr, Status: sw.status(),
			Duration: r.opt.Now().Sub(start)}
		if r.opt.Relationship != nil {
			e.Relationship, _ = r.opt.Relationship(caller.Domain)
		}
		q.mu.Lock()
		e.Mailbox, e.Reason = q.mailboxes, q.reason
		q.mu.Unlock()
		finish(&e)
		r.record(req.Context(), e)
	})
}

// finish sorts the mailboxes (the cores note them as they finish, in
// parallel) and sets the outcome: unavailable for 503, failed for any
// other error status, then by the mailboxes: ok when every one was
// served (or there were none), partial when some were, denied when none.
func finish(e *orgrel.AccessEntry) {
	slices.SortStableFunc(e.Mailbox, func(a, b orgrel.MailboxAccess) int { return strings.Compare(a.Address, b.Address) })
	served := 0
	for _, m := range e.Mailbox {
		if m.Outcome == "OK" {
			served++
		}
	}
	switch {
	case e.Status == http.StatusServiceUnavailable:
		e.Outcome = orgrel.AccessUnavailable
		if e.Reason == "" {
			e.Reason = "HTTP 503 Service Unavailable"
		}
	case e.Status >= 400:
		e.Outcome = orgrel.AccessFailed
		if e.Reason == "" {
			e.Reason = fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
		}
	case served == len(e.Mailbox):
		e.Outcome = orgrel.AccessOK
	case served > 0:
		e.Outcome = orgrel.AccessPartial
	default:
		e.Outcome = orgrel.AccessDenied
	}
}

// record logs e, hands it to Observe and queues it for the store. A full
// queue holds the request until there is room or it ends.
func (r *Recorder) record(ctx context.Context, e orgrel.AccessEntry) {
	if r.opt.Observe != nil {
		r.opt.Observe(&e)
	}
	if r.log.Enabled(ctx, slog.LevelInfo) {
		// Attrs, not key-value pairs: one line a request, without boxing
		// each value.
		var buf [14]slog.Attr
		attrs := append(buf[:0], slog.String("outcome", e.Outcome), slog.String("operation", e.Operation),
			slog.String("relationship", e.Relationship), slog.String("domain", e.Domain))
		if e.Account != "" {
			attrs = append(attrs, slog.String("account", e.Account))
		}
		if e.User != "" {
			attrs = append(attrs, slog.String("user", e.User))
		}
		if len(e.Mailbox) > 0 {
			attrs = append(attrs, slog.String("mailboxes", e.Mailboxes()), slog.String("views", e.Views()))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", e.Reason))
		}
		attrs = append(attrs, slog.Int("status", e.Status), slog.String("remote", e.Remote), slog.Duration("duration", e.Duration))
		// Handed to the handler directly: Logger.LogAttrs would also
		// look up the caller's program counter, which no handler of
		// ours reads (calfed's log handlers do not add the source).
		rec := slog.NewRecord(time.Now(), slog.LevelInfo, "partner request", 0)
		rec.AddAttrs(attrs...)
		r.log.Handler().Handle(ctx, rec)
	}
	if r.opt.Store == nil {
		return
	}
	r.mu.Lock()
	for len(r.pending) >= r.opt.QueueSize {
		room := r.room
		r.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			if n := r.dropped.Add(1); n == 1 || n%1000 == 0 {
				r.log.Error("access log record not stored: the store is not keeping up and the request ended first; the log line above stands",
					"not_stored", n)
			}
			return
		}
		r.mu.Lock()
	}
	r.pending = append(r.pending, e)
	n := len(r.pending)
	r.mu.Unlock()
	if n == 1 || n == maxBatch {
		select {
		case r.wake <- struct{}{}:
		default: // Run is already told
		}
	}
}

// Run writes queued records to the store in batches and prunes those
// older than the retention, once at start and then hourly, until ctx
// ends; then it writes what is still queued (within 10 seconds) and
// returns. A batch the store refuses is kept and tried again every
// second, so that nothing queued is lost while the store is down;
// meanwhile the queue fills and then holds requests back.
func (r *Recorder) Run(ctx context.Context) {
	if r.opt.Store == nil {
		<-ctx.Done()
		return
	}
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.prune(ctx)
	// batch is what Run took from the queue and has not stored yet; its
	// storage goes back to the queue once stored, so that the two
	// slices take turns.
	var batch []orgrel.AccessEntry
	var retry, gather <-chan time.Time
	failing := ""
	take := func() {
		r.mu.Lock()
		if len(batch) == 0 {
			batch, r.pending = r.pending, batch[:0]
		} else {
			batch = append(batch, r.pending...)
			clear(r.pending)
			r.pending = r.pending[:0]
		}
		close(r.room)
		r.room = make(chan struct{})
		r.mu.Unlock()
	}
	queued := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.pending)
	}
	// flush writes batch, maxBatch records a transaction (one sync to
	// disk for many requests), keeping what the store refuses.
	flush := func(ctx context.Context) {
		done := 0
		var err error
		for done < len(batch) && err == nil {
			n := min(len(batch)-done, maxBatch)
			if err = r.opt.Store.RecordAccess(ctx, batch[done:done+n]); err == nil {
				done += n
			}
		}
		if done > 0 {
			clear(batch[:done])
			batch = batch[:copy(batch, batch[done:])]
		}
		switch {
		case err == nil:
			if failing != "" {
				r.log.Info("access log records stored again", "records", done)
			}
			retry, failing = nil, ""
		default:
			if err.Error() != failing {
				r.log.Error("cannot store access log records; kept and retried every second", "records", len(batch), "err", err)
			}
			failing = err.Error()
			retry = time.After(time.Second)
		}
	}
	for {
		select {
		case <-ctx.Done():
			// What is still queued, within 10 seconds.
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			take()
			flush(fctx)
			if len(batch) > 0 {
				r.log.Error("access log records not stored at shutdown; their log lines stand", "records", len(batch))
			}
			return
		case <-prune.C:
			r.prune(ctx)
		case <-retry:
			flush(ctx)
		case <-gather:
			gather = nil
			if failing == "" {
				take()
				flush(ctx)
			}
		case <-r.wake:
		}
		// While the store refuses a batch, the queue is left alone: it
		// fills, and then holds requests back, rather than memory
		// growing without bound. Otherwise a batch gathers for
		// FlushDelay, or until it holds maxBatch.
		if failing != "" {
			continue
		}
		switch n := queued(); {
		case n >= maxBatch:
			gather = nil
			take()
			flush(ctx)
		case n > 0 && gather == nil:
			gather = time.After(r.opt.FlushDelay)
		}
	}
}

// prune deletes records older than the retention, in bounded batches.
func (r *Recorder) prune(ctx context.Context) {
	before := r.opt.Now().Add(-r.Retention())
	var total int64
	for {
		n, err := r.opt.Store.PruneAccessLog(ctx, before, 1000)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("pruning the access log", "deleted", total, "err", err)
			}
			return
		}
		if n < 1000 {
			break
		}
	}
	if total > 0 {
		r.log.Info("access log pruned", "deleted", total, "older_than", before.UTC().Format(time.RFC3339), "retention", r.Retention())
	}
}

// statusWriter notes the status a handler answers with.
// tracked is what Wrap allocates for a request.
type tracked struct {
	request
	statusWriter
}

type statusWriter struct {
	http.ResponseWriter
	code int
	q    *request
}

// FailResponse records why the request w answers failed, for handlers
// that render errors without the request's context (an EWS fault: its
// response code and message). w is the writer the handler was given; a
// request outside a Recorder records nothing.
func FailResponse(w http.ResponseWriter, reason string) {
	for w != nil {
		if sw, ok := w.(*statusWriter); ok {
			sw.q.mu.Lock()
			sw.q.reason = reason
			sw.q.mu.Unlock()
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
