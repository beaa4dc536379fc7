package multilog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileUnconsumed is the record, in each log directory, of the batch a
// multilog reading a pipe is writing: how much of its output the directory
// already has. A multilog killed between writing a batch and consuming it
// from the pipe leaves the batch in the pipe; the next multilog finds it
// there (same pipe, same bytes), writes each directory only what the
// record says it lacks, and consumes it. daemontools, s6-log and svlogd
// ignore names they do not know, and no archive name starts with "u".
const fileUnconsumed = "unconsumed"

// The record is two slots of recordSize bytes, written in turn with one
// pwrite each; the valid slot with the higher generation is the record.
// A kill cannot tear a pwrite, but a crash of the machine may: the other
// slot then still holds the previous state. Nothing is fsynced — a kill
// leaves the page cache, and so the record, intact; after a power loss
// the record may be older than the files, or lost (multilog.8).
const (
	recordSize  = 96
	recordMagic = "tkunc01\n"
)

// Record states.
const (
	recNone    = 0 // no batch the next multilog may trust
	recWriting = 1 // a batch is being written; progress says how far
	recDone    = 2 // the batch was consumed from the pipe
	// recWritten: every directory has the batch's whole output; it is
	// being consumed, or was just consumed. A pipe has no count of what
	// was read from it, so a head of the pipe with the batch's bytes is the
	// batch itself only if the bytes that followed it were known, when it
	// was taken, to begin otherwise (nextDiffers): it is then consumed
	// without writing. Otherwise (a service writing the same line over and
	// over, a flood of empty lines, or nothing yet after the batch) the
	// batch just consumed cannot be told from a next one with the same
	// bytes, and the head is logged as new input: at worst a batch twice,
	// never one lost.
	recWritten = 3
)

// Record flags. startsMid and endsMid say where the batch stands in the
// lines: a batch that starts inside a line is repeated, and one that ends
// inside a line is followed, by an engine continuing that line
// (Engine.ContinueLine); they are set only where it can. nextDiffers says
// what followed the batch in the pipe.
const (
	startsMid = 1
	endsMid   = 2
	// nextDiffers: bytes followed the batch in the pipe when it was taken,
	// and they do not begin as the batch does, so the next batch cannot
	// have the batch's bytes (see recWritten).
	nextDiffers = 4
)

// record is one slot.
type record struct {
	gen      uint64
	pipeDev  uint64 // the pipe: svscan keeps the same one across restarts
	pipeIno  uint64
	script   uint32 // CRC-32C of the script: the output depends on it
	state    uint32
	flags    uint32
	length   uint64 // bytes of input in the batch
	sum      uint32 // CRC-32C of them
	stamp    int64  // the batch's time, Unix nanoseconds
	curIno   uint64 // the file the last write(2) went to, and its size then
	curSize  int64
	progress int64 // bytes of the batch's output the directory had then
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (r *record) encode(b []byte) {
	copy(b, recordMagic)
	le := binary.LittleEndian
	le.PutUint64(b[8:], r.gen)
	le.PutUint64(b[16:], r.pipeDev)
	le.PutUint64(b[24:], r.pipeIno)
	le.PutUint32(b[32:], r.script)
	le.PutUint32(b[36:], r.state)
	le.PutUint64(b[40:], r.length)
	le.PutUint32(b[48:], r.sum)
	le.PutUint64(b[52:], uint64(r.stamp))
	le.PutUint64(b[60:], r.curIno)
	le.PutUint64(b[68:], uint64(r.curSize))
	le.PutUint64(b[76:], uint64(r.progress))
	le.PutUint32(b[84:], r.flags)
	le.PutUint32(b[88:], crc32.Checksum(b[:88], castagnoli))
}

func (r *record) decode(b []byte) bool {
	le := binary.LittleEndian
	if len(b) < recordSize || string(b[:8]) != recordMagic || le.Uint32(b[88:]) != crc32.Checksum(b[:88], castagnoli) {
		return false
	}
	*r = record{gen: le.Uint64(b[8:]), pipeDev: le.Uint64(b[16:]), pipeIno: le.Uint64(b[24:]),
		script: le.Uint32(b[32:]), state: le.Uint32(b[36:]), length: le.Uint64(b[40:]), sum: le.Uint32(b[48:]),
		stamp: int64(le.Uint64(b[52:])), curIno: le.Uint64(b[60:]), curSize: int64(le.Uint64(b[68:])),
		progress: int64(le.Uint64(b[76:])), flags: le.Uint32(b[84:])}
	return r.state <= recWritten && r.flags <= startsMid|endsMid|nextDiffers && r.progress >= 0 && r.curSize >= 0
}

// sameBatch reports whether r and o describe the same batch of the same
// pipe.
func (r *record) sameBatch(o *record) bool {
	return r.pipeDev == o.pipeDev && r.pipeIno == o.pipeIno && r.length == o.length && r.sum == o.sum &&
		r.stamp == o.stamp && r.flags == o.flags
}

// decodeRecord returns the newest valid slot of a record file's content.
func decodeRecord(b []byte) (record, bool) {
	var best record
	ok := false
	for off := 0; off+recordSize <= len(b) && off < 2*recordSize; off += recordSize {
		var r record
		if r.decode(b[off:off+recordSize]) && (!ok || r.gen > best.gen) {
			best, ok = r, true
		}
	}
	return best, ok
}

// errForeignRecord is what a record file holds that is not a record
// (damaged, or another program's): it is not trusted, and is replaced.
var errForeignRecord = errors.New("not a record of this multilog; ignored, and replaced by one")

// tracker keeps one directory's record; rotate calls track around each
// write(2) (Options.Track).
type tracker struct {
	dir  string
	f    *os.File // nil: no record (it could not be opened)
	rec  record
	slot int
	buf  [recordSize]byte
	err  error // the first failure to write the record
}

// open opens (creating) the record file, refusing anything but a regular
// file, and returns the record it held, if valid.
func (t *tracker) open() (record, bool, error) {
	name := filepath.Join(t.dir, fileUnconsumed)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0o644)
	if err != nil {
		return record{}, false, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return record{}, false, err
	}
	t.f = f
	f.Chmod(0o644) // whatever the umask, as every file of the directory
	b := make([]byte, 2*recordSize)
	n, _ := f.ReadAt(b, 0)
	r, ok := decodeRecord(b[:n])
	if n < len(b) {
		// Allocated now, the record's block is not refused later by a
		// full disk (where the file system overwrites in place).
		f.WriteAt(make([]byte, len(b)-n), int64(n))
	}
	// Zeros are a record file a multilog killed at its start left
	// allocated and not yet written.
	if !ok && bytes.ContainsFunc(b[:n], func(r rune) bool { return r != 0 }) {
		return record{}, false, errForeignRecord
	}
	t.rec.gen = r.gen
	return r, ok, nil
}

func (t *tracker) save() {
	if t.f == nil {
		return
	}
	t.rec.gen++
	t.rec.encode(t.buf[:])
	if _, err := t.f.WriteAt(t.buf[:], int64(t.slot*recordSize)); err != nil && t.err == nil &&
		!errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		// A full disk, which blocks writing current too, is not worth a
		// warning of its own: the record stays as it was, which the
		// next multilog trusts no further than its pipe's bytes match.
		t.err = err
	}
	t.slot ^= 1
}

// track is rotate's Options.Track.
func (t *tracker) track(ino uint64, size int64) {
	r := &t.rec
	if r.state != recWriting || t.f == nil {
		return
	}
	if ino == r.curIno {
		if size == r.curSize {
			return
		}
		if ino != 0 {
			r.progress += size - r.curSize
		}
	}
	r.curIno, r.curSize = ino, size
	t.save()
}

func (t *tracker) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}

// remove deletes the record at a clean stop.
func (t *tracker) remove() {
	if t.f != nil {
		os.Remove(filepath.Join(t.dir, fileUnconsumed))
		t.close()
	}
}

// alreadyThere returns how many bytes of the batch's output the directory has by
// rec: what rec counted, plus what the write it was taken before put into
// the file beyond that size. That file is "current", or, once Open has
// recovered the directory after the kill, the newest archive.
func alreadyThere(dir string, rec record) int64 {
	n := rec.progress
	if rec.curIno == 0 {
		return n
	}
	names := []string{"current", "previous"}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "@") {
				names = append(names, e.Name())
			}
		}
	}
	for _, name := range names {
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(dir, name), &st) == nil && st.Ino == rec.curIno && st.Mode&unix.S_IFMT == unix.S_IFREG {
			if st.Size > rec.curSize {
				n += st.Size - rec.curSize
			}
			break
		}
	}
	return n
}

// planSum identifies what a script writes: a record made by a script
// that writes other bytes (another stamp, selection, prefix or set of
// directories) is not trusted. Sizes, counts and processors do not change
// the bytes and may differ.
func planSum(p *Plan) uint32 {
	b := []byte{byte(p.Stamp)}
	for _, a := range p.Actions {
		b = append(b, 0, byte(a.Kind))
		b = append(b, a.Pattern...)
		b = append(b, 0)
		if a.Glob != nil {
			b = append(b, a.Glob.String()...)
		}
		b = append(b, 0)
		b = append(b, a.Path...)
		b = append(b, 0)
		b = append(b, a.Prefix...)
	}
	return crc32.Checksum(b, castagnoli)
}

// skipWriter writes to a directory what a repeated batch gives it, less
// the skip bytes the directory already has.
type skipWriter struct {
	w    interface{ Write([]byte) (int, error) }
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		k := min(s.skip, int64(len(p)))
		s.skip -= k
		p = p[k:]
		if len(p) == 0 {
			return n, nil
		}
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
