package ews

import (
	"net/http"
	"strconv"

	"github.com/calfed/calfed/internal/reuse"
	"github.com/calfed/calfed/internal/soap"
)

// A response is written into fixed-size pooled chunks, so that an answer
// of fifty thousand events reuses memory as one of ten does, and nothing
// the size of the whole answer is allocated.
const (
	// chunkSize holds a one-mailbox, two-month detailed answer, about
	// 80 KB, whole: it is then sent in one write.
	chunkSize = 128 << 10
	// chunkFill is when a chunk is full: what one more event writes fits
	// in the rest, most of the time (a longer one grows the chunk, which
	// is then not pooled).
	chunkFill = chunkSize - 4<<10
	// streamAfter is the size past which an answer is sent as it is
	// written, in chunked transfer encoding, rather than held whole to
	// be sent with a Content-Length: a large answer then passes through
	// a few chunks that stay in the processor's caches, where holding it
	// would write and read back tens of megabytes of memory. Answers up
	// to this size, all but the largest detailed ones, keep their
	// Content-Length.
	streamAfter = 1 << 20
)

// chunks keeps up to 32 MiB of chunks whatever the garbage collector
// does, the size of a hundred mailboxes' detailed answer.
var chunks = reuse.New(256, func() *[]byte { b := make([]byte, 0, chunkSize); return &b })

// part is one rendered piece of a response: the chunks filled, then the
// one being written (Writer.B). A part made by newAnswer is the answer
// itself: it holds what is written until the answer is known to be small
// or grows past streamAfter, and from then on sends each chunk as it
// fills.
type part struct {
	soap.Writer
	cur  *[]byte   // the chunk Writer.B writes into
	full []*[]byte // chunks filled before it

	// The answer's part only.
	rw          http.ResponseWriter
	contentType string
	streaming   bool // the header is sent; chunks go out as they fill
	failed      bool // the connection refused a write: the rest is dropped
	sent        int  // bytes sent, or dropped once failed
}

var parts = reuse.New(256, func() *part { return new(part) })

func newPart() *part {
	p := parts.Get()
	p.cur = chunks.Get()
	p.B = (*p.cur)[:0]
	return p
}

// newAnswer returns the part a response is written into, to be sent to
// rw with contentType by finish. Everything that can fail must have been
// decided before the first byte is written into it: once it streams, the
// status is sent.
func newAnswer(rw http.ResponseWriter, contentType string) *part {
	p := newPart()
	p.rw, p.contentType = rw, contentType
	return p
}

// spill moves on to a fresh chunk when the current one is full.
func (p *part) spill() {
	if len(p.B) >= chunkFill {
		p.next()
	}
}

// next closes the current chunk: an answer that streams sends it and
// writes on into the same chunk, still in cache; others hold it and move
// on to a fresh one.
func (p *part) next() {
	if p.streaming {
		p.send(p.B)
		p.B = p.B[:0]
		return
	}
	*p.cur = p.B
	p.full = append(p.full, p.cur)
	p.cur = chunks.Get()
	p.B = (*p.cur)[:0]
	if p.rw != nil && p.len() > streamAfter {
		p.stream()
	}
}

// stream sends the header, without a Content-Length, and what the answer
// holds so far.
func (p *part) stream() {
	p.streaming = true
	p.rw.Header().Set("Content-Type", p.contentType)
	p.rw.WriteHeader(http.StatusOK)
	for _, c := range p.full {
		p.send(*c)
		putChunk(c)
	}
	clear(p.full)
	p.full = p.full[:0]
}

func (p *part) send(b []byte) {
	p.sent += len(b)
	if p.failed {
		return
	}
	if _, err := p.rw.Write(b); err != nil {
		p.failed = true
	}
}

// add appends q, a part written apart (a mailbox's, rendered in
// parallel), to the answer p, and releases q.
func (p *part) add(q *part) {
	*q.cur = q.B
	for _, c := range append(q.full, q.cur) {
		for b := *c; len(b) > 0; {
			p.spill()
			n := min(len(b), chunkFill-len(p.B))
			p.B = append(p.B, b[:n]...)
			b = b[n:]
		}
	}
	q.rw = nil
	q.release()
}

// finish sends what the answer holds: the whole answer with its
// Content-Length, or the rest of a streamed one. It returns the answer's
// size and releases p.
func (p *part) finish() int {
	if !p.streaming {
		p.rw.Header().Set("Content-Type", p.contentType)
		p.rw.Header().Set("Content-Length", strconv.Itoa(p.len()))
		p.rw.WriteHeader(http.StatusOK)
		for _, c := range p.full {
			p.send(*c)
		}
	}
	p.send(p.B)
	size := p.sent
	p.release()
	return size
}

// len is what p holds.
func (p *part) len() int {
	n := len(p.B)
	for _, c := range p.full {
		n += len(*c)
	}
	return n
}

// release returns p and its chunks to their pools; chunks that grew past
// chunkSize are left to the collector.
func (p *part) release() {
	*p.cur = p.B
	for _, c := range append(p.full, p.cur) {
		putChunk(c)
	}
	clear(p.full)
	p.full, p.cur, p.B = p.full[:0], nil, nil
	p.rw, p.contentType, p.streaming, p.failed, p.sent = nil, "", false, false, 0
	parts.Put(p)
}

func putChunk(c *[]byte) {
	if cap(*c) == chunkSize {
		*c = (*c)[:0]
		chunks.Put(c)
	}
}
