package calendar

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/teambition/rrule-go"
)

// ErrTooManyInstances is returned when a series expands beyond the limit.
var ErrTooManyInstances = errors.New("calendar: recurrence expands to too many instances")

// Calendar answers window queries over one mailbox's items. It is immutable
// once built, so any number of goroutines may query it.
type Calendar struct {
	insts        []instance // single items and series instances inside the horizon, by start
	rids         []ownRecID // the RECURRENCE-IDs of insts that are not their start
	pending      []wide     // insts while the calendar is built
	items        []Item     // what instance.ref indexes
	series       []series
	from, to     int64 // horizon, Unix seconds
	maxDur       int64
	maxInstances int
	problems     []Problem
	spill        atomic.Pointer[spill] // the last expansion of the series outside the horizon
}

// spill is the series's instances over a span outside the horizon, kept
// for the next query of that span: requesters ask the same window again
// and again (Exchange's scheduling pages, a partner's polling).
type spill struct {
	from, to int64
	maxDur   int64
	insts    []instance // by start, then end
	rids     []ownRecID
}

// spillAlign aligns a spill's span, so that windows sliding by a day
// fall inside the one already expanded; spillMax bounds the span kept.
const (
	spillAlign = 30 * 24 * 3600
	spillMax   = 184 * 24 * 3600
)

// Problems lists what Parse repaired or skipped, in file order.
func (c *Calendar) Problems() []Problem { return c.problems }

// occurrence is an instance as expansion makes it.
type occurrence struct {
	start, end int64
	ref        uint32 // the item's index in Calendar.items
	recID      int64
	recurring  bool
	exception  bool
}

// instance is an occurrence as a calendar keeps it, in 16 bytes: there
// are hundreds a mailbox and tens of thousands of mailboxes. The
// RECURRENCE-ID of an occurrence is its start, but for moved ones
// (refOwnRecID), whose is kept apart.
type instance struct {
	start int64
	dur   uint32 // seconds, up to maxDur32
	ref   uint32 // the item's index in Calendar.items, and the ref flags
}

// ownRecID is the RECURRENCE-ID of the instance at index at of a run.
type ownRecID struct {
	at  uint32
	rid int64
}

// wide is an instance with its RECURRENCE-ID, as a run is built.
type wide struct {
	instance
	recID int64
}

const (
	refRecurring = 1 << 31
	refException = 1 << 30
	refSeries    = 1 << 29 // expanded from a series (not a single item or a lone exception)
	refOwnRecID  = 1 << 28 // a recurring instance whose RECURRENCE-ID is not its start
	refIndex     = refOwnRecID - 1
	// maxDur32 is the longest an instance can last, 136 years: an item
	// said to last longer ends there.
	maxDur32 = 1<<32 - 1
)

func (in *instance) end() int64 { return in.start + int64(in.dur) }

// compact is o as a calendar keeps it, with its RECURRENCE-ID until the
// run it joins is packed.
func compact(o occurrence, fromSeries bool) wide {
	in := wide{instance{start: o.start, dur: uint32(min(max(o.end-o.start, 0), maxDur32)), ref: o.ref}, o.recID}
	if o.recurring {
		in.ref |= refRecurring
		if o.recID != o.start {
			in.ref |= refOwnRecID
		}
	}
	if o.exception {
		in.ref |= refException
	}
	if fromSeries {
		in.ref |= refSeries
	}
	return in
}

// itemTable is where compile finds the items of series and overrides
// by content: the overrides of a series that change only its times have
// its item. (A single item's UID, from which its id comes, is its own.)
// Items are compared with their texts' offsets, which texts gives each
// distinct text once.
type itemTable struct {
	same  map[Item]uint32
	texts itemTexts
}

// register gives c an item and returns its index in c.items; shared, it
// is one of the series and overrides, found by content if c has it
// already.
func (c *Calendar) register(it Item, t *itemTable, shared bool) uint32 {
	if !shared {
		c.items = append(c.items, it)
		return uint32(len(c.items) - 1)
	}
	if ref, ok := t.same[it]; ok {
		return ref
	}
	ref := uint32(len(c.items))
	c.items = append(c.items, it)
	t.same[it] = ref
	return ref
}

// keepItems gives the items their final allocation, exactly as long as
// needed, and their texts theirs.
func (c *Calendar) keepItems(t *itemTable) {
	items := make([]Item, len(c.items))
	copy(items, c.items)
	texts := t.texts.keep()
	for i := range items {
		items[i].texts = texts
	}
	c.items = items
}

type series struct {
	ref       uint32 // the item's index in Calendar.items
	uid       string // for errors
	timing    timing
	simples   []simpleRule    // the RRULEs simpleRule expands
	rules     []rrule.ROption // the other RRULEs, DTSTART's defaults written out (see explicitDefaults)
	rdates    []time.Time     // RDATEs and DTSTART, sorted
	exdates   []int64         // EXDATEs, Unix seconds, sorted
	overrides []override      // by RECURRENCE-ID (see key), once settled
	x         *seriesRare     // nil for most series
	clock     bool            // occurrences keep DTSTART's wall-clock time (see expand)
	file      string
	line      int
}

// seriesRare holds what few series have, apart, to keep the many small.
type seriesRare struct {
	future  []*override    // RANGE=THISANDFUTURE overrides, by RECURRENCE-ID
	periods []period       // RDATE PERIOD values: instances with their own length
	exdates map[int64]bool // by key, for the periods
	rdates  map[int64]bool // RDATEs of a series whose rule keeps the wall clock: exact as written
}

func (s *series) rare() *seriesRare {
	if s.x == nil {
		s.x = &seriesRare{}
	}
	return s.x
}

type period struct{ start, end time.Time }

type override struct {
	rid        int64
	start, end int64
	ref        uint32 // the item's index in Calendar.items; none when cancelled
	cancelled  bool
	future     bool // RANGE=THISANDFUTURE: also replaces every later occurrence
}

// key is how an occurrence is named by RECURRENCE-ID and EXDATE: its Unix
// time, or for an all-day series its date, whatever zone or value type
// the reference uses (Exchange 2010 names all-day occurrences with a
// DATE-TIME at midnight UTC).
func (s *series) key(t time.Time) int64 {
	if !s.timing.allDay {
		return t.Unix()
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.timing.start.Location()).Unix()
}

// settle orders the overrides by RECURRENCE-ID, the last in the files
// replacing an earlier one for the same occurrence, keeps them without
// room to grow, and finds the THISANDFUTURE ones.
func (s *series) settle() {
	slices.SortStableFunc(s.overrides, func(a, b override) int { return cmpInt(a.rid, b.rid) })
	kept := s.overrides[:0]
	for i, ov := range s.overrides {
		if i+1 < len(s.overrides) && s.overrides[i+1].rid == ov.rid {
			continue
		}
		kept = append(kept, ov)
	}
	s.overrides = kept
	if s.x != nil {
		s.x.future = s.x.future[:0]
	}
	for i := range s.overrides {
		if s.overrides[i].future {
			s.rare().future = append(s.rare().future, &s.overrides[i])
		}
	}
}

// keepSeries gives the series their final allocations: all of them in
// one, and each kind of their parts in one, rather than a few small ones
// each, which would hold on to memory pages among the garbage of reading
// the calendar. The overrides must be settled.
func (c *Calendar) keepSeries(ss []*series) {
	var nov, nsimple, nrd, nex, nuid int
	for _, s := range ss {
		nov += len(s.overrides)
		nsimple += len(s.simples)
		nrd += len(s.rdates)
		nex += len(s.exdates)
		nuid += len(s.uid)
	}
	c.series = make([]series, len(ss))
	ovs := make([]override, 0, nov)
	simples := make([]simpleRule, 0, nsimple)
	rdates := make([]time.Time, 0, nrd)
	exdates := make([]int64, 0, nex)
	uids := make([]byte, 0, nuid)
	for _, s := range ss {
		uids = append(uids, s.uid...)
	}
	uidText := string(uids) // not the decoded text's
	at := 0
	for i, s := range ss {
		n := &c.series[i]
		*n = *s
		n.uid = uidText[at : at+len(s.uid)]
		at += len(s.uid)
		n.overrides = keepIn(&ovs, s.overrides)
		n.simples = keepIn(&simples, s.simples)
		n.rdates = keepIn(&rdates, s.rdates)
		n.exdates = keepIn(&exdates, s.exdates)
		if n.x != nil {
			n.x.future = n.x.future[:0]
			for j := range n.overrides {
				if n.overrides[j].future {
					n.x.future = append(n.x.future, &n.overrides[j])
				}
			}
		}
	}
}

// keepIn appends part to all, which has room for it, and returns it as
// kept there, with no room to grow into what follows.
func keepIn[T any](all *[]T, part []T) []T {
	n := len(*all)
	*all = append(*all, part...)
	return (*all)[n:len(*all):len(*all)]
}

// replaced reports whether an override replaces the occurrence at key k.
func (s *series) replaced(k int64) bool {
	_, ok := slices.BinarySearchFunc(s.overrides, k, func(ov override, k int64) int { return cmpInt(ov.rid, k) })
	return ok
}

// futureFor is the THISANDFUTURE override governing the occurrence at
// key k: the latest one at or before it.
func (s *series) futureFor(k int64) *override {
	if s.x == nil {
		return nil
	}
	var f *override
	for _, ov := range s.x.future {
		if ov.rid > k {
			break
		}
		f = ov
	}
	return f
}

func (c *Calendar) add(o occurrence, fromSeries bool) {
	in := compact(o, fromSeries)
	c.maxDur = max(c.maxDur, int64(in.dur))
	c.pending = append(c.pending, in)
}

// pack sorts a run of instances and keeps it in as little memory as it
// takes: no room to grow, and the RECURRENCE-IDs apart.
func pack(ws []wide) ([]instance, []ownRecID) {
	slices.SortFunc(ws, func(a, b wide) int {
		if a.start != b.start {
			return cmpInt(a.start, b.start)
		}
		return cmpInt(a.end(), b.end())
	})
	insts := make([]instance, len(ws))
	own := 0
	for i := range ws {
		insts[i] = ws[i].instance
		if ws[i].ref&refOwnRecID != 0 {
			own++
		}
	}
	var rids []ownRecID
	if own > 0 {
		rids = make([]ownRecID, 0, own)
		for i := range ws {
			if ws[i].ref&refOwnRecID != 0 {
				rids = append(rids, ownRecID{uint32(i), ws[i].recID})
			}
		}
	}
	return insts, rids
}

// recID is the RECURRENCE-ID of the instance at index i of a run whose
// own RECURRENCE-IDs are rids: 0 for a single item.
func recID(in *instance, i int, rids []ownRecID) int64 {
	switch {
	case in.ref&refRecurring == 0:
		return 0
	case in.ref&refOwnRecID == 0:
		return in.start
	}
	j, _ := slices.BinarySearchFunc(rids, uint32(i), func(r ownRecID, at uint32) int { return cmpInt(int64(r.at), int64(at)) })
	return rids[j].rid
}

// expandHorizon adds the series's instances inside the horizon to the
// single items, and keeps them sorted.
func (c *Calendar) expandHorizon() error {
	for i := range c.series {
		err := c.series[i].expand(c.from, c.to, c.maxInstances, func(o occurrence) { c.add(o, true) })
		if err != nil {
			return err
		}
	}
	c.insts, c.rids = pack(c.pending)
	c.pending = nil
	return nil
}

// withHorizon returns c with its series pre-expanded over [from, to)
// instead, sharing everything else: the horizon follows the clock in a
// long-running process without the calendar being read again.
func (c *Calendar) withHorizon(from, to time.Time) (*Calendar, error) {
	n := &Calendar{items: c.items, series: c.series, from: from.Unix(), to: to.Unix(), maxInstances: c.maxInstances, problems: c.problems}
	for i := range c.insts {
		if in := &c.insts[i]; in.ref&refSeries == 0 {
			n.maxDur = max(n.maxDur, int64(in.dur))
			n.pending = append(n.pending, wide{*in, recID(in, i, c.rids)})
		}
	}
	if err := n.expandHorizon(); err != nil {
		return nil, err
	}
	return n, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// overlaps reports whether [start, end) meets the window [from, to); an
// instant event meets it when it lies inside.
func overlaps(start, end, from, to int64) bool {
	if start == end {
		return start >= from && start < to
	}
	return start < to && end > from
}

// Len returns the number of stored instances (single items and series
// instances inside the horizon).
func (c *Calendar) Len() int { return len(c.insts) }

// Events returns the instances overlapping [from, to), whole (not clipped),
// ordered by start.
func (c *Calendar) Events(from, to time.Time) ([]Event, error) {
	return c.AppendEvents(nil, from, to)
}

// AppendEvents is Events appending to dst. Inside the horizon it reads
// the pre-expanded instances; outside, it merges the single items with
// the series expanded over an aligned span around the window, which is
// kept for the next query of that span.
func (c *Calendar) AppendEvents(dst []Event, from, to time.Time) ([]Event, error) {
	f, t := from.Unix(), to.Unix()
	all := cursor{in: c.insts, rids: c.rids}
	all.seek(f - c.maxDur)
	if f >= c.from && t <= c.to || len(c.series) == 0 {
		for in := all.next(f, t); in != nil; in = all.next(f, t) {
			dst = append(dst, c.event(in, all.recID(in)))
		}
		return dst, nil
	}
	sp, err := c.spillFor(f, t)
	if err != nil {
		return dst, err
	}
	all.singles = true
	gen := cursor{in: sp.insts, rids: sp.rids}
	gen.seek(f - sp.maxDur)
	a, b := all.next(f, t), gen.next(f, t)
	for a != nil || b != nil {
		if b == nil || a != nil && before(a, b) {
			dst = append(dst, c.event(a, all.recID(a)))
			a = all.next(f, t)
		} else {
			dst = append(dst, c.event(b, gen.recID(b)))
			b = gen.next(f, t)
		}
	}
	return dst, nil
}

// cursor walks a run of instances sorted by start, yielding those
// overlapping a window.
type cursor struct {
	in      []instance
	rids    []ownRecID
	i       int
	singles bool // skip the series instances
}

// recID is the RECURRENCE-ID of in, the instance next last returned.
func (c *cursor) recID(in *instance) int64 { return recID(in, c.i-1, c.rids) }

// seek starts the cursor at the first instance starting at or after lo.
func (c *cursor) seek(lo int64) {
	c.i, _ = slices.BinarySearchFunc(c.in, lo, func(in instance, target int64) int { return cmpInt(in.start, target) })
}

func (c *cursor) next(f, t int64) *instance {
	for ; c.i < len(c.in) && c.in[c.i].start < t; c.i++ {
		in := &c.in[c.i]
		if c.singles && in.ref&refSeries != 0 || !overlaps(in.start, in.end(), f, t) {
			continue
		}
		c.i++
		return in
	}
	return nil
}

func before(a, b *instance) bool {
	return a.start < b.start || a.start == b.start && a.dur < b.dur
}

// spillFor returns the series expanded over an aligned span holding
// [f, t): the kept one when it holds it, else a new one, kept when its
// span is not too long.
func (c *Calendar) spillFor(f, t int64) (*spill, error) {
	if sp := c.spill.Load(); sp != nil && f >= sp.from && t <= sp.to {
		return sp, nil
	}
	sp := &spill{from: f - mod(f, spillAlign), to: t + spillAlign - mod(t, spillAlign)}
	var ws []wide
	for i := range c.series {
		err := c.series[i].expand(sp.from, sp.to, c.maxInstances, func(o occurrence) {
			in := compact(o, true)
			sp.maxDur = max(sp.maxDur, int64(in.dur))
			ws = append(ws, in)
		})
		if err != nil {
			return nil, err
		}
	}
	sp.insts, sp.rids = pack(ws)
	if sp.to-sp.from <= spillMax {
		c.spill.Store(sp)
	}
	return sp, nil
}

func mod(a, b int64) int64 { return (a%b + b) % b }

func (c *Calendar) event(in *instance, recID int64) Event {
	return Event{
		Start:        time.Unix(in.start, 0).UTC(),
		End:          time.Unix(in.end(), 0).UTC(),
		Item:         &c.items[in.ref&refIndex],
		RecurrenceID: recID,
		Recurring:    in.ref&refRecurring != 0,
		Exception:    in.ref&refException != 0,
	}
}

// expand emits the instances of s overlapping [from, to): generated
// occurrences not replaced by an override (shifted and restyled by the
// THISANDFUTURE override governing them), its PERIOD instances, then the
// overrides.
func (s *series) expand(from, to int64, max int, emit func(occurrence)) error {
	span := s.maxSpan()
	next, err := s.occurrences(from - span - restartMargin)
	if err != nil {
		return &ParseError{File: s.file, Line: s.line, UID: s.uid, Err: fmt.Errorf("RRULE: %w", err)}
	}
	for n := 0; ; n++ {
		dt, ok := next()
		if !ok {
			break
		}
		if n >= max*4 {
			return s.tooMany(max)
		}
		if s.clock && (s.x == nil || !s.x.rdates[dt.Unix()]) {
			dt = s.wallClock(dt)
		}
		k := s.key(dt)
		if k-span >= to {
			break
		}
		if k+span < from {
			continue
		}
		if s.replaced(k) {
			continue
		}
		st, end, ref := dt.Unix(), s.timing.endOf(dt).Unix(), s.ref
		if f := s.futureFor(k); f != nil {
			if f.cancelled {
				continue
			}
			st += f.start - f.rid
			end, ref = st+(f.end-f.start), f.ref
		}
		if overlaps(st, end, from, to) {
			emit(occurrence{start: st, end: end, ref: ref, recID: k, recurring: true})
		}
	}
	for _, p := range s.rarePeriods() {
		k := s.key(p.start)
		if s.replaced(k) || s.x.exdates[k] {
			continue
		}
		if st, end := p.start.Unix(), p.end.Unix(); overlaps(st, end, from, to) {
			emit(occurrence{start: st, end: end, ref: s.ref, recID: k, recurring: true})
		}
	}
	for i := range s.overrides {
		ov := &s.overrides[i]
		if ov.cancelled || !overlaps(ov.start, ov.end, from, to) {
			continue
		}
		emit(occurrence{start: ov.start, end: ov.end, ref: ov.ref, recID: ov.rid, recurring: true, exception: true})
	}
	return nil
}

func (s *series) rarePeriods() []period {
	if s.x == nil {
		return nil
	}
	return s.x.periods
}

// wallClock puts an occurrence at DTSTART's wall-clock time on its day:
// the recurrence library lets Go place a time in a spring-forward gap,
// which RFC 5545 §3.3.5 places with the offset before the gap.
func (s *series) wallClock(dt time.Time) time.Time {
	st := s.timing.start
	want := st.Hour()*3600 + st.Minute()*60 + st.Second()
	got := dt.Hour()*3600 + dt.Minute()*60 + dt.Second()
	if want == got {
		return dt
	}
	// The wall clock Go gave differs by the gap; the day meant is the one
	// that difference leads back to.
	diff := ((want-got)%86400+86400+43200)%86400 - 43200
	naive := time.Date(dt.Year(), dt.Month(), dt.Day(), dt.Hour(), dt.Minute(), dt.Second(), 0, time.UTC).Add(time.Duration(diff) * time.Second)
	y, m, d := naive.Date()
	return localTime(y, m, d, st.Hour(), st.Minute(), st.Second(), st.Location())
}

// maxSpan bounds an occurrence's length in seconds (all-day spans can grow
// by an hour across a DST change).
func (s *series) maxSpan() int64 {
	span := int64(s.timing.dur / time.Second)
	if s.timing.allDay {
		span = int64(s.timing.days)*86400 + 3600
	}
	if s.x == nil {
		return span
	}
	for _, f := range s.x.future {
		shift := f.start - f.rid
		span = max(span, f.end-f.start+max(shift, -shift)+3600)
	}
	return span
}

func (s *series) tooMany(max int) error {
	return &ParseError{File: s.file, Line: s.line, UID: s.uid,
		Err: fmt.Errorf("%w (more than %d)", ErrTooManyInstances, max)}
}

// itemID derives a stable id from the UID (or, without one, the place
// the item was defined); Event.AppendID writes it in hex.
func itemID(uid, file string, line int) (id [12]byte) {
	key := uid
	if key == "" {
		key = file + ":" + strconv.Itoa(line)
	}
	var buf [128]byte // most keys: no allocation
	sum := sha1.Sum(append(buf[:0], key...))
	copy(id[:], sum[:])
	return id
}
