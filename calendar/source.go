package calendar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Source is where a mailbox's calendar comes from.
type Source interface {
	// String names the source in logs and errors.
	String() string
	// Stamp changes whenever the content may have changed.
	Stamp(ctx context.Context) (string, error)
	// Read returns the iCalendar documents. The caller only reads their
	// Data, and keeps nothing of it once it has parsed them: a source
	// may return memory it holds (StaticSource does), which it must not
	// change while the caller holds it.
	Read(ctx context.Context) ([]File, error)
}

// bufferedSource is a Source that reads into memory its caller lends it,
// as a Directory's loaders lend theirs from one calendar to the next.
type bufferedSource interface {
	// readInto is Read with the files' Data appended to buf[len(buf):],
	// or to a new array when buf has not the room; it returns the array
	// that has them. The caller owns buf before and after, and must not
	// lend it again while it holds the Files.
	readInto(ctx context.Context, buf []byte) ([]File, []byte, error)
}

// FileSource is an .ics file, or a directory whose *.ics files together
// make the calendar (one event per file, as CalDAV collections store them).
type FileSource struct {
	Path string
}

func (s FileSource) String() string { return s.Path }

// Errors of FileSource; match with errors.Is.
var (
	// ErrNotRegular: the path is neither a regular file nor a directory
	// (a FIFO or a device would block or never end).
	ErrNotRegular = errors.New("calendar: not a regular file")
	// ErrNoFiles: a directory source holds no .ics file; an empty
	// calendar would show its owner free.
	ErrNoFiles = errors.New("calendar: no .ics files in the directory")
)

func (s FileSource) Stamp(ctx context.Context) (string, error) {
	fi, err := os.Stat(s.Path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%w: %s", ErrNotRegular, s.Path)
		}
		return fmt.Sprintf("%d/%d", fi.Size(), fi.ModTime().UnixNano()), nil
	}
	names, err := s.names()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d", fi.ModTime().UnixNano())
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "|%s/%d/%d", filepath.Base(n), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

// names lists the directory's regular *.ics files (following links);
// other entries are not calendar data.
func (s FileSource) names() ([]string, error) {
	entries, err := os.ReadDir(s.Path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.EqualFold(filepath.Ext(e.Name()), ".ics") {
			continue
		}
		p := filepath.Join(s.Path, e.Name())
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			names = append(names, p)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoFiles, s.Path)
	}
	sort.Strings(names)
	return names, nil
}

// Read returns the files' bytes in memory of their own, which the caller
// owns.
func (s FileSource) Read(ctx context.Context) ([]File, error) {
	files, _, err := s.readInto(ctx, nil)
	return files, err
}

func (s FileSource) readInto(ctx context.Context, buf []byte) ([]File, []byte, error) {
	fi, err := os.Stat(s.Path)
	if err != nil {
		return nil, buf, err
	}
	names := []string{s.Path}
	if fi.IsDir() {
		if names, err = s.names(); err != nil {
			return nil, buf, err
		}
	}
	files := make([]File, 0, len(names))
	for _, n := range names {
		var data []byte
		if data, buf, err = readRegular(n, buf); err != nil {
			return nil, buf, err
		}
		files = append(files, File{Name: n, Data: data})
	}
	return files, buf, nil
}

// readRegular reads a file only if it is a regular one, checked on the
// open file so that a swap between check and read changes nothing. The
// file's bytes are appended to buf when it has the room, else to a new
// array, which is returned with them; what buf held stays where it is.
func readRegular(name string, buf []byte) (data, grown []byte, err error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, buf, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, buf, err
	}
	if !fi.Mode().IsRegular() {
		return nil, buf, fmt.Errorf("%w: %s", ErrNotRegular, name)
	}
	// Room for the size the file has (one byte more to see its end at
	// once), not grown by doubling as the file is read: ten thousand
	// calendars of a quarter of a megabyte each are read at start-up. A
	// file that grows meanwhile is read whole all the same.
	if need := int(max(fi.Size()+1, 512)); cap(buf)-len(buf) < need {
		buf = make([]byte, 0, max(need, 2*cap(buf)))
	}
	start := len(buf)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf[start:len(buf):len(buf)], buf, nil
		}
		if err != nil {
			return nil, buf[:start], err
		}
		if len(buf) == cap(buf) {
			// The file grew: what was read of it moves to a larger array.
			read := buf[start:]
			buf = append(make([]byte, 0, 2*len(read)), read...)
			start = 0
		}
	}
}

// StaticSource is a calendar held in memory, such as the rendered demo or
// synthetic benchmark data. Its content never changes.
type StaticSource struct {
	Name string
	Data []byte
}

func (s StaticSource) String() string                        { return s.Name }
func (s StaticSource) Stamp(context.Context) (string, error) { return "static", nil }
func (s StaticSource) Read(context.Context) ([]File, error) {
	return []File{{Name: s.Name, Data: s.Data}}, nil
}

// Report is what Check found in a source.
type Report struct {
	Source    string    `json:"source"`
	Instances int       `json:"instances"` // stored instances (inside the horizon)
	Problems  []Problem `json:"problems"`
	Err       string    `json:"error,omitempty"` // the source as a whole could not be read
}

// WriteText writes the report as calfed calendar check prints it: each
// problem on a line, then what was served or why nothing could be.
func (r Report) WriteText(w io.Writer) {
	for _, p := range r.Problems {
		fmt.Fprintln(w, p)
	}
	if r.Err != "" {
		fmt.Fprintf(w, "%s: cannot be read: %s\n", r.Source, r.Err)
	} else {
		fmt.Fprintf(w, "%s: %d instances served, %d problems\n", r.Source, r.Instances, len(r.Problems))
	}
}

// Check reads and parses src as a Directory would, and reports what it
// repaired, skipped, or could not read at all (Err).
func Check(ctx context.Context, src Source, opt Options) Report {
	r := Report{Source: src.String(), Problems: []Problem{}}
	files, err := src.Read(ctx)
	if err == nil {
		var cal *Calendar
		if cal, err = Parse(files, opt); err == nil {
			r.Instances, r.Problems = cal.Len(), append(r.Problems, cal.Problems()...)
		}
	}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}
