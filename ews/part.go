package ews

import (
	"io"

	"github.com/calfed/calfed/internal/reuse"
	"github.com/calfed/calfed/internal/soap"
)

// A response is written into fixed-size pooled chunks, so that an answer
// of fifty thousand events reuses memory as one of ten does, and nothing
// the size of the whole answer is allocated.
const (
	chunkSize = 64 << 10
	// chunkFill is when a chunk is full: what one more event writes fits
	// in the rest, most of the time (a longer one grows the chunk, which
	// is then not pooled).
	chunkFill = chunkSize - 4<<10
)

// chunks keeps up to 32 MiB of chunks whatever the garbage collector
// does, the size of a hundred mailboxes' detailed answer.
var chunks = reuse.New(512, func() *[]byte { b := make([]byte, 0, chunkSize); return &b })

// part is one rendered piece of a response: the chunks filled, then the
// one being written (Writer.B).
type part struct {
	soap.Writer
	cur  *[]byte   // the chunk Writer.B writes into
	full []*[]byte // chunks filled before it
}

var parts = reuse.New(256, func() *part { return new(part) })

func newPart() *part {
	p := parts.Get()
	p.cur = chunks.Get()
	p.B = (*p.cur)[:0]
	return p
}

// spill moves on to a fresh chunk when the current one is full.
func (p *part) spill() {
	if len(p.B) < chunkFill {
		return
	}
	*p.cur = p.B
	p.full = append(p.full, p.cur)
	p.cur = chunks.Get()
	p.B = (*p.cur)[:0]
}

func (p *part) len() int {
	n := len(p.B)
	for _, c := range p.full {
		n += len(*c)
	}
	return n
}

func (p *part) writeTo(w io.Writer) {
	for _, c := range p.full {
		w.Write(*c)
	}
	w.Write(p.B)
}

// release returns p and its chunks to their pools; chunks that grew past
// chunkSize are left to the collector.
func (p *part) release() {
	*p.cur = p.B
	for _, c := range append(p.full, p.cur) {
		if cap(*c) == chunkSize {
			*c = (*c)[:0]
			chunks.Put(c)
		}
	}
	clear(p.full)
	p.full, p.cur, p.B = p.full[:0], nil, nil
	parts.Put(p)
}
