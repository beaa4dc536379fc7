package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size on a new directory for the
// test, unmounted at its end; it skips the test unless run as root.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (mount -t tmpfs -o size=" + size + " tmpfs <dir>) and fill it; run the campaign as root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs on %s: %v", mnt, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	})
	return mnt
}

// fillDisk writes a filler file in mnt until the disk is full.
func fillDisk(t *testing.T, mnt string) string {
	t.Helper()
	path := filepath.Join(mnt, "filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
}

// dataOnDisk returns the bytes in the files of an uncompressed log
// directory, each inode counted once (an archive is linked before its old
// name goes): it grows when a line reaches the disk.
func dataOnDisk(dir string) int64 {
	des, _ := os.ReadDir(dir)
	seen := map[uint64]bool{}
	var n int64
	for _, de := range des {
		st, err := os.Lstat(filepath.Join(dir, de.Name()))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if ino := st.Sys().(*syscall.Stat_t).Ino; !seen[ino] {
			seen[ino] = true
			n += st.Size()
		}
	}
	return n
}

var fullWarning = regexp.MustCompile(`^multilog: warning: unable to [^:]+, pausing: out of disk space$`)

// TestFullDisk fills the tmpfs multilog writes to, several times, while
// lines stream in through a held pipe: writing pauses with daemontools'
// warning, input backs up in the pipe, and when the filler is deleted
// logging resumes by itself (the time from freeing the space to the next
// byte on disk is measured); in the end the directory holds the input
// exactly. Last, a SIGTERM storm during a full-disk pause: multilog exits
// 111 promptly, having said what it could not log, and the next multilog
// continues from the pipe with at most one read lost.
func TestFullDisk(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	rounds := pick(1, 10)
	r := newRand(time.Now().UnixNano())
	in := newStream(rounds * 8000) // ~280 kB a round; all of it fits once the filler is gone
	// Held: each round's share goes in once the disk is full.
	pipe := newLogPipeHeld(t, in, 3, 0)
	dir := filepath.Join(mnt, "d")
	script := []string{"s16384", "n1000000", "./d"}
	p := startProc(t, procOpts{dir: mnt, stdin: pipe.r, ready: true}, script...)
	p.awaitReady(t)
	var resumptions []time.Duration
	for round := 0; round < rounds; round++ {
		filler := fillDisk(t, mnt)
		pipe.hold(int64(round+1) * in.size() / int64(rounds))
		before := strings.Count(p.errText(), "pausing")
		deadline := time.Now().Add(2 * time.Minute)
		for strings.Count(p.errText(), "pausing") == before {
			if p.exited() || time.Now().After(deadline) {
				t.Fatalf("round %d: no pause on a full disk within 2 minutes (exited %v); stderr %q", round, p.exited(), p.errText())
			}
			time.Sleep(time.Millisecond)
		}
		// Blocked: nothing more reaches the disk while the filler stays.
		// The disk is freed at a random moment of the 5-second pause in
		// the long form (the resumption then varies from ~0 to 5 s).
		onDisk := dataOnDisk(dir)
		time.Sleep(300*time.Millisecond + pick(time.Duration(0), time.Duration(r.IntN(5000))*time.Millisecond))
		if d := dataOnDisk(dir); d != onDisk {
			t.Errorf("round %d: %d bytes reached a full disk", round, d-onDisk)
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		freed := time.Now()
		for dataOnDisk(dir) == onDisk {
			if time.Since(freed) > time.Minute {
				t.Fatalf("round %d: logging did not resume within a minute of freeing the disk; stderr %q", round, p.errText())
			}
			time.Sleep(500 * time.Microsecond)
		}
		resumptions = append(resumptions, time.Since(freed))
		// Let this round's share of the stream through before the next.
		for pipe.consumed() < int64(round+1)*in.size()/int64(rounds) {
			if p.exited() {
				t.Fatalf("round %d: multilog exited %d; stderr %q", round, exitCode(p.state), p.errText())
			}
			time.Sleep(time.Millisecond)
		}
	}
	for !pipe.finished() {
		time.Sleep(time.Millisecond)
	}
	pipe.closeWrite()
	if code := p.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("exit %d; stderr %q", code, p.errText())
	}
	warnings := stderrLines(p.errText())
	for _, l := range warnings {
		if !fullWarning.MatchString(l) {
			t.Errorf("unexpected message %q", l)
		}
	}
	files, err := readLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := checkFileCut(f, 16384); err != nil {
			t.Errorf("size contract: %v", err)
		}
	}
	if err := sameAsStream(files, in); err != nil {
		t.Fatal(err)
	}
	figure(t, "%d fills of an 8 MiB tmpfs during a %d-line stream: %d pause warnings, nothing lost or doubled; "+
		"resumption after freeing the disk (multilog retries every 5 s, as daemontools): median %v, max %v (all %v)",
		rounds, in.lines(), len(warnings), percentile(resumptions, 50).Round(time.Millisecond),
		percentile(resumptions, 100).Round(time.Millisecond), roundAll(resumptions))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// TestFullDiskTERM: SIGTERM during a full-disk pause ends it at once;
// multilog says the rest of what it read is not logged and exits 111, as
// the manual says. It loses at most that read; the next multilog, once
// there is space, logs the rest of the pipe.
func TestFullDiskTERM(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	in := newStream(20_000)
	pipe := newLogPipeHeld(t, in, 4, 0) // nothing before the disk is full
	dir := filepath.Join(mnt, "d")
	script := []string{"s16384", "n1000000", "./d"}
	p := startProc(t, procOpts{dir: mnt, stdin: pipe.r, ready: true}, script...)
	p.awaitReady(t)
	filler := fillDisk(t, mnt)
	pipe.hold(in.size())
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.errText(), "pausing") {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("no pause on a full disk; stderr %q", p.errText())
		}
		time.Sleep(time.Millisecond)
	}
	lat, _ := termStorm(p)
	code := p.wait(t, time.Minute)
	text := p.errText()
	if code != 111 || !strings.Contains(text, "multilog: warning: stopping on SIGTERM while a directory still refused data: the rest of this input is not logged\n") {
		t.Errorf("exit %d, stderr %q; want 111 and the warning that data was not logged", code, text)
	}
	if lat > termBound {
		t.Errorf("%v from SIGTERM to exit during a full-disk pause (bound %v)", lat, termBound)
	}
	to := pipe.consumed()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	q := startProc(t, procOpts{dir: mnt, stdin: pipe.r}, script...)
	for !pipe.finished() {
		time.Sleep(time.Millisecond)
	}
	pipe.closeWrite()
	if code := q.wait(t, 2*time.Minute); code != 0 || q.errText() != "" {
		t.Fatalf("the next multilog: exit %d; stderr %q", code, q.errText())
	}
	files, err := readLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lc := countLines(files, in)
	if lc.duplicated > 0 || lc.reordered > 0 {
		t.Errorf("%d lines duplicated, %d out of order", lc.duplicated, lc.reordered)
	}
	// What TERM gave up is at most one read (1 MiB, lines of 12 bytes or more).
	if lc.missing > 1<<20/12 {
		t.Errorf("lost %d lines, more than one read holds", lc.missing)
	}
	figure(t, "SIGTERM storm during a full-disk pause: exit 111 after %v; %d lines of the %d bytes the first multilog consumed not logged, as documented; the rest of the pipe logged by the next multilog",
		lat.Round(time.Microsecond), lc.missing, to)
}

// lossyMarker is the line a directory with L writes once the disk takes
// data again: when dropping began, and how much was dropped.
var lossyMarker = regexp.MustCompile(`^@[0-9a-f]{24} multilog: lost (\d+) bytes \((\d+) line ends\) to a full disk since this time\n$`)

// TestFullDiskLossy: with L a full disk never holds up the service: while
// the filler stays, the pipe is emptied and what does not fit is dropped,
// counted, said once on stderr; once there is room a marker line says how
// many bytes and line ends were dropped, the lines after it are all there,
// and stderr says it again. Exactly the dropped lines are missing.
func TestFullDiskLossy(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	in := newStream(40_000)
	half := in.offs[20_000] // the first 20,000 lines go while the disk is full
	pipe := newLogPipeHeld(t, in, 5, 0)
	dir := filepath.Join(mnt, "d")
	script := []string{"L", "s16384", "n1000000", "./d"}
	p := startProc(t, procOpts{dir: mnt, stdin: pipe.r, ready: true}, script...)
	p.awaitReady(t)
	filler := fillDisk(t, mnt)
	pipe.hold(half)
	deadline := time.Now().Add(2 * time.Minute)
	for pipe.consumed() < half { // multilog takes it all: the service never waits
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the pipe was not emptied while the disk was full (%d of %d bytes); stderr %q", pipe.consumed(), half, p.errText())
		}
		time.Sleep(time.Millisecond)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	pipe.hold(in.size())
	for !pipe.finished() {
		time.Sleep(time.Millisecond)
	}
	pipe.closeWrite()
	if code := p.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("exit %d; stderr %q", code, p.errText())
	}
	files, err := readLogDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range files {
		all = append(all, f.data...)
	}
	// Some of the first half may have reached the disk before it was
	// full: the log is those whole lines, the marker, then the rest.
	nl := bytes.IndexByte(all, '\n')
	var markerAt int
	for markerAt = 0; nl >= 0; nl = bytes.IndexByte(all[markerAt:], '\n') {
		if lossyMarker.Match(all[markerAt : markerAt+nl+1]) {
			break
		}
		markerAt += nl + 1
	}
	if nl < 0 {
		t.Fatalf("no marker line in the log (%d bytes); stderr %q", len(all), p.errText())
	}
	m := lossyMarker.FindSubmatch(all[markerAt : markerAt+nl+1])
	before, after := all[:markerAt], all[markerAt+nl+1:]
	lostBytes, _ := strconv.ParseInt(string(m[1]), 10, 64)
	lostLines, _ := strconv.Atoi(string(m[2]))
	w := int64(len(before))
	if w > 0 && !bytes.Equal(before, in.bytesAt(0, w)) && bytes.Equal(before[:w-1], in.bytesAt(0, w-1)) {
		w-- // the drop began inside a line: the marker brought its own newline
	}
	if !bytes.Equal(before[:w], in.bytesAt(0, w)) || w+lostBytes+int64(len(after)) != in.size() ||
		!bytes.Equal(after, in.bytesAt(in.size()-int64(len(after)), in.size())) ||
		lostLines != bytes.Count(in.bytesAt(w, w+lostBytes), []byte{'\n'}) {
		t.Fatalf("log: %d bytes, a marker for %d bytes (%d line ends), %d bytes; the stream is %d bytes: not the input less exactly what the marker says",
			len(before), lostBytes, lostLines, len(after), in.size())
	}
	text := p.errText()
	if strings.Count(text, "dropping what does not fit") != 1 ||
		!strings.Contains(text, fmt.Sprintf("./d again: lost %d bytes (%d line ends) to a full disk", lostBytes, lostLines)) {
		t.Fatalf("stderr %q: want the drop said once, and the count once writing works again", text)
	}
	figure(t, "L on a full 8 MiB tmpfs: the pipe emptied while full; %d bytes (%d lines) dropped, counted by the marker line and on stderr; all %d later lines logged",
		lostBytes, lostLines, bytes.Count(after, []byte{'\n'}))
}
