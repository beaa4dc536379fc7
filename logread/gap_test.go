package logread

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// Gaps: a file pruned before the Reader read it is named in a *GapError,
// given just before the first line after it, and the stream goes on with
// what is left. Every test here drives the writer (a Dir) and the Reader
// step by step from one goroutine: each rotation and its pruning is done
// (settle) before the Reader takes its next line, so what the Reader
// finds is decided by the test, not by timing.

// gapBase is the time of the first line of the gap tests.
var gapBase = time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)

// gapBlock is block k of the gap tests: 100 stamped lines, about 4 KiB.
func gapBlock(k int) []byte { return stampedLines(gapBase, k*100, 100) }

// settle waits for the Dir's rotation job (archiving, compression,
// pruning) to be done.
func settle(t *testing.T, d *rotate.Dir) {
	t.Helper()
	if err := d.Wait(); err != nil {
		t.Fatal(err)
	}
}

// rotateWith archives current and begins the next file with p, the job
// done.
func rotateWith(t *testing.T, d *rotate.Dir, p []byte) {
	t.Helper()
	if err := d.Rotate(); err != nil {
		t.Fatal(err)
	}
	settle(t, d)
	write(t, d, p)
}

// newestArchive returns the name of the newest archive in dir.
func newestArchive(t *testing.T, dir string) string {
	t.Helper()
	names, _ := archives(t, dir)
	if len(names) == 0 {
		t.Fatal("no archive")
	}
	return names[len(names)-1]
}

// gapReader is a Reader whose lines and errors are kept in order: at each
// error, how much of the stream had been given.
type gapReader struct {
	r    *Reader
	out  []byte
	errs []error
	at   []int // len(out) when errs[i] came
}

func openGapReader(t *testing.T, dir string, opts Options) *gapReader {
	t.Helper()
	g := &gapReader{}
	opts.Name = "./log"
	opts.OnError = func(err error) {
		g.errs = append(g.errs, err)
		g.at = append(g.at, len(g.out))
	}
	r, err := OpenDir(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	g.r = r
	return g
}

// next takes one line, which the test knows is there: a Reader that waits
// for it instead is a failure, not a hang.
func (g *gapReader) next(t *testing.T) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	c := make(chan result, 1)
	go func() {
		l, err := g.r.Next()
		c <- result{append([]byte(nil), l.Bytes...), err}
	}()
	select {
	case res := <-c:
		if res.err != nil {
			t.Fatalf("Next: %v", res.err)
		}
		g.out = append(g.out, res.b...)
	case <-time.After(30 * time.Second):
		g.r.Interrupt()
		<-c
		t.Fatalf("Next waited 30 s for a line that is in the directory (read %d bytes)", len(g.out))
	}
}

// upTo takes lines until the stream given is n bytes long.
func (g *gapReader) upTo(t *testing.T, n int) {
	t.Helper()
	for len(g.out) < n {
		g.next(t)
	}
	if len(g.out) != n {
		t.Fatalf("read %d bytes, want %d", len(g.out), n)
	}
}

// oneGap checks that the only error is one *GapError, given when the
// stream was at bytes, and returns it.
func (g *gapReader) oneGap(t *testing.T, at int) *GapError {
	t.Helper()
	if len(g.errs) != 1 {
		t.Fatalf("want one GapError, got %d errors: %v", len(g.errs), g.errs)
	}
	var ge *GapError
	if !errors.As(g.errs[0], &ge) {
		t.Fatalf("%T is not a *GapError: %v", g.errs[0], g.errs[0])
	}
	if g.at[0] != at {
		t.Fatalf("the gap was given after %d bytes of the stream, want %d (just before the first line after it): %v", g.at[0], at, ge)
	}
	return ge
}

// lastStamp and firstStamp are the stamps of the last and first lines of
// b.
func lastStampOf(b []byte) tai64n.Label {
	l := b[bytes.LastIndexByte(b[:len(b)-1], '\n')+1:]
	st, _ := tai64n.ParsePrefix(l)
	return st
}

func firstStampOf(b []byte) tai64n.Label {
	st, _ := tai64n.ParsePrefix(b)
	return st
}

func cat(blocks ...[]byte) []byte { return slices.Concat(blocks...) }

// TestGapArchivePrunedAhead: a follower in the middle of an archive, with
// the next one listed; the writer rotates four times and retention (n5:
// four archives kept) prunes the archive being read (held open, so still
// readable) and the listed one. The listed one is named, with its size,
// just before the first line after it; every line still there is given
// once, in order.
func TestGapArchivePrunedAhead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep = 1<<20, 5
	d := mustOpen(t, dir, o)
	defer d.Close()
	b := make([][]byte, 8)
	for k := range b {
		b[k] = gapBlock(k)
	}
	write(t, d, b[0])
	g := openGapReader(t, dir, Options{Follow: true})
	g.next(t) // in current
	var names []string
	for k := 1; k <= 3; k++ {
		rotateWith(t, d, b[k])
		names = append(names, newestArchive(t, dir))
	}
	// The rest of the first file, then into the second archive: the
	// Reader has the third listed.
	g.upTo(t, len(b[0])+lineEnd(b[1], 1))
	if g.r.File() != names[1] {
		t.Fatalf("reading %s, want %s", g.r.File(), names[1])
	}
	for k := 4; k <= 7; k++ {
		rotateWith(t, d, b[k])
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Fatalf("%s not pruned: %v", n, listDir(t, dir))
		}
	}
	want := cat(b[0], b[1], b[3], b[4], b[5], b[6], b[7])
	g.upTo(t, len(want))
	if !bytes.Equal(g.out, want) {
		t.Fatal(firstDiff(g.out, want))
	}
	ge := g.oneGap(t, len(b[0])+len(b[1]))
	wantGap := GapError{Dir: "./log", Last: names[1], LastStamp: lastStampOf(b[1]),
		Files: []GapFile{{Name: names[2], Size: int64(len(b[2]))}},
		Next:  firstArchive(t, dir), NextStamp: firstStampOf(b[3])}
	checkGap(t, ge, &wantGap)
	if n, complete := ge.Lost(); n != int64(len(b[2])) || !complete {
		t.Fatalf("Lost() = %d, %v; want %d, true", n, complete, len(b[2]))
	}
	if msg := ge.Error(); msg != "gap in ./log: 1 file pruned before it was read: "+names[2]+
		" ("+strconv.Itoa(len(b[2]))+" bytes); reading goes on in "+wantGap.Next {
		t.Fatalf("message %q", msg)
	}
}

// firstArchive returns the name of the oldest archive in dir.
func firstArchive(t *testing.T, dir string) string {
	t.Helper()
	names, _ := archives(t, dir)
	if len(names) == 0 {
		t.Fatal("no archive")
	}
	return names[0]
}

func checkGap(t *testing.T, got, want *GapError) {
	t.Helper()
	eq := got.Dir == want.Dir && got.Last == want.Last && got.LastStamp == want.LastStamp &&
		slices.Equal(got.Files, want.Files) && got.Unknown == want.Unknown &&
		got.Next == want.Next && got.NextStamp == want.NextStamp &&
		(got.Cursor == nil) == (want.Cursor == nil) && (got.Cursor == nil || *got.Cursor == *want.Cursor)
	if !eq {
		t.Fatalf("gap\n got  %+v (cursor %+v)\n want %+v (cursor %+v)", *got, got.Cursor, *want, want.Cursor)
	}
}

// TestGapLostTrack: a Reader (not following: it has no history of the
// directory) in the middle of current; the writer rotates three times with
// retention n2 (one archive kept), so that the file the Reader was in, its
// archive and the next one are all gone when it reads on. It reads its
// file to the end (it holds it open), then cannot tell what came between
// it and the archive left: an unknown gap, named before the first line of
// that archive. (A follower knows: TestGapFollowerHistory.)
func TestGapLostTrack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep = 1<<20, 2
	d := mustOpen(t, dir, o)
	defer d.Close()
	b := make([][]byte, 4)
	for k := range b {
		b[k] = gapBlock(k)
	}
	write(t, d, b[0])
	g := openGapReader(t, dir, Options{})
	g.next(t)
	for k := 1; k <= 3; k++ {
		rotateWith(t, d, b[k])
	}
	want := cat(b[0], b[2], b[3])
	g.upTo(t, len(want))
	if !bytes.Equal(g.out, want) {
		t.Fatal(firstDiff(g.out, want))
	}
	ge := g.oneGap(t, len(b[0]))
	checkGap(t, ge, &GapError{Dir: "./log", Last: fileCurrent, LastStamp: lastStampOf(b[0]), Unknown: true,
		Next: firstArchive(t, dir), NextStamp: firstStampOf(b[2])})
	if n, complete := ge.Lost(); n != 0 || complete {
		t.Fatalf("Lost() = %d, %v; want 0, false", n, complete)
	}
	if msg := ge.Error(); msg != "gap in ./log: files after current may have been pruned before they were read "+
		"(how many is unknown); reading goes on in "+ge.Next {
		t.Fatalf("message %q", msg)
	}
}

// cursorThrough returns the cursor after reading n bytes of dir from its
// start (not following), through its text form.
func cursorThrough(t *testing.T, dir string, n int) Cursor {
	t.Helper()
	g := openGapReader(t, dir, Options{})
	g.upTo(t, n)
	text, _ := g.r.Cursor().MarshalText()
	g.r.Close()
	var c Cursor
	if err := c.UnmarshalText(text); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return c
}

// lineEnd returns the length of the first n lines of b.
func lineEnd(b []byte, n int) int {
	end := 0
	for range n {
		end += bytes.IndexByte(b[end:], '\n') + 1
	}
	return end
}

// TestGapCursorArchivePruned: a cursor saved in the middle of an archive,
// which retention prunes before the Reader resumes. The GapError names
// the cursor's archive by its label and how much of it had been read, and
// says that more may be gone; the stream goes on with the oldest archive
// left.
func TestGapCursorArchivePruned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep = 1<<20, 3
	d := mustOpen(t, dir, o)
	defer d.Close()
	b := make([][]byte, 5)
	for k := range b {
		b[k] = gapBlock(k)
	}
	write(t, d, b[0])
	rotateWith(t, d, b[1])
	rotateWith(t, d, b[2])
	names, _ := archives(t, dir)
	into := lineEnd(b[1], 5)
	c := cursorThrough(t, dir, len(b[0])+into)
	rotateWith(t, d, b[3])
	rotateWith(t, d, b[4])
	if _, err := os.Stat(filepath.Join(dir, names[1])); err == nil {
		t.Fatalf("%s not pruned", names[1])
	}
	g := openGapReader(t, dir, Options{Cursor: &c})
	want := cat(b[2], b[3], b[4])
	g.upTo(t, len(want))
	if !bytes.Equal(g.out, want) {
		t.Fatal(firstDiff(g.out, want))
	}
	ge := g.oneGap(t, 0)
	checkGap(t, ge, &GapError{Dir: "./log", Cursor: &GapFile{Name: names[1][:stampLen], Size: -1, Read: int64(into)},
		Unknown: true, Next: firstArchive(t, dir), NextStamp: firstStampOf(b[2])})
	want2 := "gap in ./log: the cursor's file (" + names[1][:stampLen] + ", " + strconv.Itoa(into) +
		" bytes into it) was pruned before the rest of it was read; files after it may have been pruned " +
		"before they were read (how many is unknown); reading goes on in " + ge.Next
	if ge.Error() != want2 {
		t.Fatalf("message %q\nwant    %q", ge.Error(), want2)
	}
}

// TestGapCursorCurrentPruned: the cursor stood in current, which the
// writer then archived and retention pruned: the GapError says so (not
// that "current" cannot be found: a new one is there), with the offset
// the cursor had, and the stream goes on with the archive left.
func TestGapCursorCurrentPruned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	var w warnings
	o := testOptions(&w)
	o.MaxSize, o.Keep = 1<<20, 2
	d := mustOpen(t, dir, o)
	defer d.Close()
	b := make([][]byte, 3)
	for k := range b {
		b[k] = gapBlock(k)
	}
	write(t, d, b[0])
	into := lineEnd(b[0], 10)
	c := cursorThrough(t, dir, into)
	rotateWith(t, d, b[1])
	rotateWith(t, d, b[2])
	g := openGapReader(t, dir, Options{Cursor: &c})
	want := cat(b[1], b[2])
	g.upTo(t, len(want))
	if !bytes.Equal(g.out, want) {
		t.Fatal(firstDiff(g.out, want))
	}
	ge := g.oneGap(t, 0)
	checkGap(t, ge, &GapError{Dir: "./log", Cursor: &GapFile{Name: fileCurrent, Size: -1, Read: int64(into)},
		Unknown: true, Next: firstArchive(t, dir), NextStamp: firstStampOf(b[1])})
	if strings.Contains(ge.Error(), "unable to find") || !strings.Contains(ge.Error(), "the cursor's file (current, "+strconv.Itoa(into)+" bytes into it) was pruned") {
		t.Fatalf("message %q", ge.Error())
	}
}

// TestGapNoneWhenKeepingUp: with the tightest retention (n2: one archive
// kept), compressed or not, through a processor or not, a Reader that
// looks at the directory between two rotations reports no gap, whether it
// reads each file while it is current or one rotation behind, from its
// archive.
func TestGapNoneWhenKeepingUp(t *testing.T) {
	modes := []struct {
		name string
		set  func(o *rotate.Options)
	}{
		{"plain", func(o *rotate.Options) {}},
		{"gzip", func(o *rotate.Options) { o.Compression = rotate.Compression{Method: rotate.Gzip} }},
		{"zstd", func(o *rotate.Options) { o.Compression = rotate.Compression{Method: rotate.Zstd} }},
		{"processor cat", func(o *rotate.Options) { o.Processor, o.HasProcessor = "cat", true }},
	}
	for _, m := range modes {
		for _, behind := range []bool{false, true} {
			name := m.name + "/current"
			if behind {
				name = m.name + "/behind"
			}
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "log")
				var w warnings
				o := testOptions(&w)
				o.MaxSize, o.Keep = 1<<20, 2
				m.set(&o)
				d := mustOpen(t, dir, o)
				defer d.Close()
				var g *gapReader
				var want []byte
				for k := range 20 {
					b := gapBlock(k)
					write(t, d, b)
					want = append(want, b...)
					if g == nil {
						g = openGapReader(t, dir, Options{Follow: true})
					}
					if !behind {
						g.upTo(t, len(want)) // from current
					}
					if err := d.Rotate(); err != nil {
						t.Fatal(err)
					}
					settle(t, d)
					if behind {
						g.upTo(t, len(want)) // from its archive
					}
				}
				if len(g.errs) > 0 {
					t.Fatal(g.errs)
				}
				if !bytes.Equal(g.out, want) {
					t.Fatal(firstDiff(g.out, want))
				}
			})
		}
	}
}

// TestGapFollowerHistory: a follower in the middle of current while the
// writer rotates two to four times with retention n2 (one archive kept):
// the file it reads, its archive and every archive but the last are gone
// when it reads on, and the directory alone cannot tell whether anything
// came between. The follower's history of the archives created says
// exactly: two rotations lost nothing (no gap, where a Reader without the
// history warns of an unknown one), more name each archive pruned unread.
// With the history's events lost (the kernel's queue overflowed), the gap
// is unknown again.
func TestGapFollowerHistory(t *testing.T) {
	modes := []struct {
		name string
		set  func(o *rotate.Options)
	}{
		{"plain", func(o *rotate.Options) {}},
		{"gzip", func(o *rotate.Options) { o.Compression = rotate.Compression{Method: rotate.Gzip} }},
		{"zstd", func(o *rotate.Options) { o.Compression = rotate.Compression{Method: rotate.Zstd} }},
		{"processor cat", func(o *rotate.Options) { o.Processor, o.HasProcessor = "cat", true }},
	}
	type historyCase struct {
		rotations int
		overflow  bool
	}
	for _, m := range modes {
		cases := []historyCase{{2, false}, {3, false}, {4, false}}
		if m.name == "plain" {
			cases = append(cases, historyCase{3, true}, historyCase{6, false})
		}
		for _, c := range cases {
			rotations, overflow := c.rotations, c.overflow
			name := fmt.Sprintf("%s/%d rotations", m.name, rotations)
			if overflow {
				name += "/overflow"
			}
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "log")
				var w warnings
				o := testOptions(&w)
				o.MaxSize, o.Keep = 1<<20, 2
				m.set(&o)
				d := mustOpen(t, dir, o)
				defer d.Close()
				b := make([][]byte, rotations+1)
				for k := range b {
					b[k] = gapBlock(k)
				}
				write(t, d, b[0])
				g := openGapReader(t, dir, Options{Follow: true})
				g.next(t)          // in current
				var names []string // names[k]: the archive of b[k]
				for k := 1; k <= rotations; k++ {
					rotateWith(t, d, b[k])
					names = append(names, newestArchive(t, dir))
				}
				if overflow {
					overflowInotify(t, dir)
				}
				want := cat(b[0], b[rotations-1], b[rotations])
				g.upTo(t, len(want))
				if !bytes.Equal(g.out, want) {
					t.Fatal(firstDiff(g.out, want))
				}
				if rotations == 2 && !overflow {
					if len(g.errs) > 0 {
						t.Fatalf("nothing was lost, yet: %v", g.errs)
					}
					return
				}
				ge := g.oneGap(t, len(b[0]))
				wantGap := &GapError{Dir: "./log", Last: fileCurrent, LastStamp: lastStampOf(b[0]),
					Next: names[rotations-1], NextStamp: firstStampOf(b[rotations-1])}
				if overflow {
					wantGap.Unknown = true
				} else {
					for _, n := range names[1 : rotations-1] {
						wantGap.Files = append(wantGap.Files, GapFile{Name: n, Size: -1})
					}
				}
				checkGap(t, ge, wantGap)
				if rotations == 6 {
					// Of many, the message names the first and the last.
					if msg, want := ge.Error(), "gap in ./log: 4 files pruned before they were read: "+names[1]+
						" (size unknown), … "+names[4]+" (size unknown); reading goes on in "+names[5]; msg != want {
						t.Fatalf("message\n%q\nwant\n%q", msg, want)
					}
				}
			})
		}
	}
}

// overflowInotify makes more events in dir than the kernel queues for a
// watch that is not read (its max_queued_events), so that the queue
// overflows.
func overflowInotify(t *testing.T, dir string) {
	t.Helper()
	max := 16384
	if b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			max = n
		}
	}
	junk := filepath.Join(dir, "junk")
	for range max/2 + 10 { // two events each
		if err := os.WriteFile(junk, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(junk); err != nil {
			t.Fatal(err)
		}
	}
}

// The watcher's history takes from inotify's events the archives created
// (by a link, a creation or a rename), one per stamp (svlogd's "@x.u" and
// then "@x.s"), and no other name; an overflow or too long a history
// marks it as lost.
func TestWatcherHistory(t *testing.T) {
	event := func(mask uint32, name string) []byte {
		n := (len(name) + 1 + 15) / 16 * 16 // NUL-padded, as the kernel pads
		b := make([]byte, syscall.SizeofInotifyEvent+n)
		binary.NativeEndian.PutUint32(b[4:], mask)
		binary.NativeEndian.PutUint32(b[12:], uint32(n))
		copy(b[syscall.SizeofInotifyEvent:], name)
		return b
	}
	a := "@400000006b13500000000001"
	b := "@400000006B13500000000002" // upper case: svlogd's stamps may be
	w := &watcher{}
	w.note(slices.Concat(
		event(syscall.IN_CREATE, "current"),
		event(syscall.IN_CREATE, a+".s"),
		event(syscall.IN_DELETE, a+".s"),
		event(syscall.IN_MOVED_TO, b+".u"),
		event(syscall.IN_MOVED_TO, b+".s"),
		event(syscall.IN_CREATE, "@4000.s"),
		event(syscall.IN_MOVED_TO, a[:24]+"3.t"),
	))
	if want := []string{a + ".s", strings.ToLower(b) + ".u"}; !slices.Equal(w.created, want) || w.lost {
		t.Fatalf("history %q (lost %v), want %q", w.created, w.lost, want)
	}
	w.note(event(syscall.IN_Q_OVERFLOW, ""))
	if !w.lost {
		t.Fatal("an overflow did not mark the history lost")
	}
	w.f = &os.File{} // as if inotify worked: mark then trusts the history
	w.mark()
	if w.lost || len(w.created) != 0 {
		t.Fatalf("after mark: %q, lost %v", w.created, w.lost)
	}
	for i := range maxHistory + 1 {
		w.note(event(syscall.IN_CREATE, fmt.Sprintf("@4000000000000000%08x.s", i)))
	}
	if !w.lost || len(w.created) != maxHistory {
		t.Fatalf("%d archives noted, lost %v", len(w.created), w.lost)
	}
}
