package calendar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calfed/calfed/internal/domainname"
)

// Errors of Directory.Events; match with errors.Is.
var (
	ErrUnknownMailbox = errors.New("calendar: no such mailbox")
	ErrUnavailable    = errors.New("calendar: calendar unavailable")
)

// Entry configures one mailbox of a Directory.
type Entry struct {
	Mailbox Mailbox
	Source  Source
}

// DirectoryOptions tune a Directory. The zero value is usable.
type DirectoryOptions struct {
	Logger       *slog.Logger     // nil discards
	Now          func() time.Time // default time.Now
	HorizonPast  time.Duration    // pre-expansion before now; default 62 days
	HorizonAhead time.Duration    // pre-expansion after now; default 93 days
	MaxInstances int              // per series; default 100000
	// ReadTimeout bounds one calendar's read and parse; a source that
	// takes longer fails its mailbox for now and is tried again at the
	// next reload, while the others go on. Default 30s.
	ReadTimeout time.Duration
	// Strict fails a calendar on any problem instead of repairing it or
	// skipping the event (Options.Strict).
	Strict bool
	// Background makes NewDirectory return at once and load the
	// calendars behind it, GOMAXPROCS at a time, in configuration order:
	// a server listens while tens of thousands of calendars load. A
	// query for a mailbox not loaded yet loads it there and then; Progress
	// and Loaded tell how far loading is. Default: NewDirectory returns
	// once every calendar is loaded.
	Background bool
}

// Directory is the set of mailboxes calfed serves, each with its calendar
// parsed into memory. Queries never wait for a reload: a reload builds a
// new calendar and swaps it in.
type Directory struct {
	opt       DirectoryOptions
	log       *slog.Logger
	entries   map[string]*entry
	order     []*entry
	loadedN   atomic.Int64  // mailboxes loaded at least once
	allLoaded chan struct{} // closed when every mailbox is
}

type entry struct {
	mb      Mailbox
	src     Source
	state   atomic.Pointer[loaded] // nil until the first load ends
	loading atomic.Bool            // a load is running, possibly stuck past its timeout
	ready   chan struct{}          // closed when the first load ends
	once    sync.Once              // closes ready
	// checked is when (UnixNano) the source was last read or found
	// unchanged without an error; failures counts the reads that failed.
	checked  atomic.Int64
	failures atomic.Int64
}

type loaded struct {
	cal   *Calendar
	err   error
	stamp string
	slid  bool // the horizon of an unchanged calendar moved
}

// NewDirectory loads every mailbox's calendar. A calendar that cannot be
// read or parsed leaves its mailbox in an error state (logged, and reported
// by Events) and does not fail the directory; duplicate addresses do.
func NewDirectory(ctx context.Context, entries []Entry, opt DirectoryOptions) (*Directory, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.HorizonPast <= 0 {
		opt.HorizonPast = defaultHorizonPast
	}
	if opt.HorizonAhead <= 0 {
		opt.HorizonAhead = defaultHorizonAhead
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = 30 * time.Second
	}
	d := &Directory{opt: opt, log: opt.Logger, entries: make(map[string]*entry, len(entries)), allLoaded: make(chan struct{})}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	for _, e := range entries {
		addr, err := domainname.Address(strings.TrimSpace(e.Mailbox.Address))
		if err != nil {
			return nil, fmt.Errorf("calendar: mailbox: %w", err)
		}
		if _, dup := d.entries[addr]; dup {
			return nil, fmt.Errorf("calendar: mailbox %s is configured twice", addr)
		}
		if e.Mailbox.Location == nil {
			e.Mailbox.Location = time.UTC
		}
		e.Mailbox.Address = addr
		en := &entry{mb: e.Mailbox, src: e.Source, ready: make(chan struct{})}
		d.entries[addr] = en
		d.order = append(d.order, en)
	}
	if len(d.order) == 0 {
		close(d.allLoaded)
	}
	if opt.Background {
		go d.reload(ctx, true)
		return d, nil
	}
	d.reload(ctx, true)
	return d, nil
}

// Progress counts the mailboxes whose calendar has been loaded (or has
// failed) at least once, and all the mailboxes: what a readiness check
// reports while a Background directory loads.
func (d *Directory) Progress() (loaded, total int) {
	return int(d.loadedN.Load()), len(d.order)
}

// Loaded is closed once every mailbox's calendar has been loaded (or
// has failed) at least once.
func (d *Directory) Loaded() <-chan struct{} { return d.allLoaded }

// state returns en's loaded calendar, loading it first if no load has
// ended yet (a Background directory still loading): the caller waits for
// that one calendar, or for ctx.
func (d *Directory) state(ctx context.Context, en *entry) (*loaded, error) {
	if st := en.state.Load(); st != nil {
		return st, nil
	}
	// The load is the directory's, not the request's: a caller that gives
	// up does not fail the calendar for everyone.
	go d.load(context.WithoutCancel(ctx), en, true, new(*scratch)) // returns at once if a load of en is running
	select {
	case <-en.ready:
		return en.state.Load(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, en.mb.Address, ctx.Err())
	}
}

// Lookup finds a mailbox by SMTP address, compared in its canonical form
// (internal/domainname: the domain's ASCII form, the local part's ASCII
// letters without regard to case); an address with none names no mailbox.
func (d *Directory) Lookup(address string) (*Mailbox, bool) {
	en, ok := d.entry(address)
	if !ok {
		return nil, false
	}
	return &en.mb, true
}

// entry is the mailbox address names, as Lookup finds it.
func (d *Directory) entry(address string) (*entry, bool) {
	a, err := domainname.Address(strings.TrimSpace(address))
	if err != nil {
		return nil, false
	}
	en, ok := d.entries[a]
	return en, ok
}

// Domains returns the domains of the directory's addresses, sorted.
func (d *Directory) Domains() []string {
	seen := map[string]bool{}
	var out []string
	for _, en := range d.order {
		dom := en.mb.Address[strings.LastIndexByte(en.mb.Address, '@')+1:]
		if !seen[dom] {
			seen[dom] = true
			out = append(out, dom)
		}
	}
	slices.Sort(out)
	return out
}

// Mailboxes returns every mailbox in configuration order.
func (d *Directory) Mailboxes() []*Mailbox {
	out := make([]*Mailbox, len(d.order))
	for i, en := range d.order {
		out[i] = &en.mb
	}
	return out
}

// Events returns the events of a mailbox overlapping [from, to).
func (d *Directory) Events(ctx context.Context, address string, from, to time.Time) ([]Event, error) {
	return d.AppendEvents(ctx, nil, address, from, to)
}

// AppendEvents appends the events of a mailbox overlapping [from, to) to
// dst, so that a caller may reuse one buffer across queries.
func (d *Directory) AppendEvents(ctx context.Context, dst []Event, address string, from, to time.Time) ([]Event, error) {
	en, ok := d.entry(address)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMailbox, address)
	}
	st, err := d.state(ctx, en)
	if err != nil {
		return nil, err
	}
	if st.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, st.err)
	}
	return st.cal.AppendEvents(dst, from, to)
}

// Stats counts mailboxes, stored instances and failed calendars; a
// calendar not loaded yet (Background) counts neither.
func (d *Directory) Stats() (mailboxes, instances, failed int) {
	for _, en := range d.order {
		st := en.state.Load()
		mailboxes++
		if st == nil {
			continue
		}
		if st.err != nil {
			failed++
			continue
		}
		instances += st.cal.Len()
	}
	return
}

// Reload re-reads every calendar whose source changed.
func (d *Directory) Reload(ctx context.Context) { d.reload(ctx, false) }

// Watch reloads changed calendars every interval, once every calendar
// has been loaded, until ctx ends.
func (d *Directory) Watch(ctx context.Context, interval time.Duration) {
	// Not before the first load has ended: a pass meanwhile would read
	// the calendars the loaders have not reached, beside them.
	select {
	case <-ctx.Done():
		return
	case <-d.allLoaded:
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.Reload(ctx)
		}
	}
}

func (d *Directory) reload(ctx context.Context, all bool) {
	work := make(chan *entry)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc *scratch // reused from one calendar to the next
			for en := range work {
				d.load(ctx, en, all, &sc)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for _, en := range d.order {
		select {
		case work <- en:
		case <-ctx.Done():
			return
		}
	}
}

// ErrTimeout is wrapped by the error of a calendar whose source did not
// answer within ReadTimeout.
var ErrTimeout = errors.New("calendar: reading the calendar timed out")

// load reads en's calendar again when its source changed, or when it
// failed last time (whatever the stamp says: a file made readable again
// keeps its modification time). A read that outlives ReadTimeout fails
// the mailbox and is left to finish on its own; no second read of the
// same source starts meanwhile.
//
// The read uses *sc, made if nil; a read that times out keeps it, and
// *sc is nil after.
func (d *Directory) load(ctx context.Context, en *entry, force bool, sc **scratch) {
	if !en.loading.CompareAndSwap(false, true) {
		return // the previous read is still stuck
	}
	if force && en.state.Load() != nil {
		// A first load finding the calendar loaded already (on demand,
		// while the loaders were elsewhere): reading it again would
		// double the start-up's work.
		en.loading.Store(false)
		return
	}
	if *sc == nil {
		*sc = new(scratch)
	}
	lent := *sc
	done := make(chan *loaded, 1)
	go func() {
		next := d.read(ctx, en, force, lent)
		// Not running before the result is sent: the caller may load en
		// again as soon as it has it (the next Reload).
		en.loading.Store(false)
		done <- next
	}()
	var next *loaded
	select {
	case next = <-done:
	case <-time.After(d.opt.ReadTimeout):
		next = &loaded{err: fmt.Errorf("%w after %v: %s", ErrTimeout, d.opt.ReadTimeout, en.src)}
		*sc = nil // the stuck read still writes into it
	}
	if next == nil || next.err == nil {
		en.checked.Store(d.opt.Now().UnixNano())
	} else {
		en.failures.Add(1)
	}
	if next == nil {
		return // unchanged
	}
	prev := en.state.Load()
	en.state.Store(next)
	if prev == nil {
		en.once.Do(func() {
			close(en.ready)
			if int(d.loadedN.Add(1)) == len(d.order) {
				close(d.allLoaded)
			}
		})
	}
	if next.err != nil {
		if prev == nil || prev.err == nil || prev.err.Error() != next.err.Error() {
			d.log.Error("calendar unavailable", "mailbox", en.mb.Address, "source", en.src.String(), "err", next.err)
		}
		return
	}
	if next.slid {
		d.log.Debug("calendar horizon moved", "mailbox", en.mb.Address, "instances", next.cal.Len())
		return
	}
	if !force {
		d.log.Info("calendar reloaded", "mailbox", en.mb.Address, "source", en.src.String(), "instances", next.cal.Len())
	}
	logProblems(d.log, en.mb.Address, next.cal.Problems())
}

// maxLoggedProblems bounds the problem lines one load logs.
const maxLoggedProblems = 20

// logProblems logs what a load repaired or skipped: a count, then each
// problem with its file and line (the first maxLoggedProblems).
func logProblems(log *slog.Logger, mailbox string, ps []Problem) {
	if len(ps) == 0 {
		return
	}
	skipped := 0
	for _, p := range ps {
		if p.Skipped {
			skipped++
		}
	}
	log.Warn("calendar served with problems (calfed calendar check shows them)", "mailbox", mailbox, "skipped", skipped, "repaired", len(ps)-skipped)
	for i, p := range ps {
		if i == maxLoggedProblems {
			log.Warn("calendar problem", "mailbox", mailbox, "more", len(ps)-i)
			return
		}
		log.Warn("calendar problem", "mailbox", mailbox, "at", p.String())
	}
}

// Problems returns what the mailbox's calendar had repaired or skipped at
// its last load, and the error that failed it, if any.
func (d *Directory) Problems(address string) ([]Problem, error) {
	en, ok := d.entry(address)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMailbox, address)
	}
	st, err := d.state(context.Background(), en)
	if err != nil {
		return nil, err
	}
	if st.err != nil {
		return nil, st.err
	}
	return st.cal.Problems(), nil
}

// read stamps and, when needed, parses en's source into sc; nil means
// unchanged.
func (d *Directory) read(ctx context.Context, en *entry, force bool, sc *scratch) *loaded {
	prev := en.state.Load()
	stamp, err := en.src.Stamp(ctx)
	if err != nil {
		return &loaded{err: err}
	}
	if !force && prev != nil && prev.err == nil && prev.stamp == stamp {
		return d.slide(prev)
	}
	next := &loaded{stamp: stamp}
	next.cal, next.err = d.parse(ctx, en, sc)
	return next
}

// horizonSlide is how far the clock moves before a calendar's horizon
// follows it.
const horizonSlide = 24 * time.Hour

// slide moves the horizon of an unchanged calendar with the clock; nil
// when it is current.
func (d *Directory) slide(prev *loaded) *loaded {
	now := d.opt.Now()
	from := now.Add(-d.opt.HorizonPast)
	if from.Unix()-prev.cal.from < int64(horizonSlide/time.Second) {
		return nil
	}
	next := &loaded{stamp: prev.stamp, slid: true}
	next.cal, next.err = prev.cal.withHorizon(from, now.Add(d.opt.HorizonAhead))
	return next
}

func (d *Directory) parse(ctx context.Context, en *entry, sc *scratch) (*Calendar, error) {
	var files []File
	var err error
	if src, ok := en.src.(bufferedSource); ok {
		files, sc.file, err = src.readInto(ctx, sc.file[:0])
	} else {
		files, err = en.src.Read(ctx)
	}
	defer sc.trim()
	if err != nil {
		return nil, err
	}
	now := d.opt.Now()
	return sc.parse(files, Options{
		Location:     en.mb.Location,
		Owner:        en.mb.Address,
		HorizonFrom:  now.Add(-d.opt.HorizonPast),
		HorizonTo:    now.Add(d.opt.HorizonAhead),
		MaxInstances: d.opt.MaxInstances,
		Strict:       d.opt.Strict,
	})
}
