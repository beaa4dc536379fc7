package rotate

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// rotateLocked closes current and makes it an archive, as multilog's
// fullcurrent does: current is renamed "previous", a new "current" is
// begun, and "previous" is made durable (fsync), marked complete (mode
// 0744) and archived — through processing if configured. Everything after
// the rename runs in a job beside the writer, so that neither fsync nor a
// processor holds up input; only the next rotation waits for it. A crash
// before the job ends leaves "previous", which Open keeps as a ".u", as it
// keeps an unfinished current.
func (d *Dir) rotateLocked() error {
	name := d.opts.Name
	// Only one file is processed at a time: "previous" is its name.
	if err := d.finishJob(); err != nil {
		return err
	}
	// multilog continues a cleanly closed directory without looking at a
	// "previous" a stopped processor left, and would rename over it here.
	// Keep it instead, as the crash-recovery path would.
	if _, err := d.fs.Lstat(filePrevious); err == nil {
		if err := d.archive(filePrevious, 'u'); err != nil {
			return err
		}
	}
	if err := d.retry(func() string { return "unable to rename current to previous in directory " + name },
		func() error { return d.fs.Rename(fileCurrent, filePrevious) }); err != nil {
		return err
	}
	// The old descriptor stays open until the new current exists, so that
	// an Interrupt in between still leaves a file for Close to finish.
	var f File
	if err := d.retry(func() string { return "unable to create " + name + "/current" }, func() (err error) {
		f, err = d.openFile(fileCurrent, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		return err
	}); err != nil {
		return err
	}
	if err := d.retry(func() string { return "unable to set mode of " + name + "/current" },
		func() error { return f.Chmod(0o644) }); err != nil {
		f.Close()
		return err
	}
	d.cur.Close()
	d.cur, d.size, d.started, d.lineEnd, d.curIno = f, 0, d.opts.Clock(), true, 0
	d.writeback = 0
	d.stats.rotations.Add(1)
	d.job = d.startJob()
	return nil
}

// syncFile makes the named file durable.
func (d *Dir) syncFile(name string) error {
	f, err := d.openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// settlePrevious makes "previous" durable and marks it complete, the first
// step of every job.
func (d *Dir) settlePrevious() error {
	name := d.opts.Name
	// Worded as multilog words it: to the user this is the current file.
	if err := d.retry(func() string { return "unable to write " + name + "/current to disk" },
		func() error { return d.syncFile(filePrevious) }); err != nil {
		return err
	}
	return d.retry(func() string { return "unable to set mode of " + name + "/previous" },
		func() error { return d.fs.Chmod(filePrevious, 0o744) })
}

// archive gives file an archive name "@<stamp>.<code>" and applies the
// retention limits, as multilog's finish does: a hard link to the new name,
// then the old name removed, so that a crash in between loses nothing (a
// file found with two links was already linked and is only unlinked).
func (d *Dir) archive(file string, code byte) error {
	name := d.opts.Name
	var st fs.FileInfo
	if err := d.retry(func() string { return "unable to stat " + name + "/" + file }, func() (err error) {
		st, err = d.fs.Lstat(file)
		if errors.Is(err, fs.ErrNotExist) {
			st, err = nil, nil
		}
		return err
	}); err != nil {
		return err
	}
	if st == nil {
		return nil
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); !ok || sys.Nlink == 1 {
		for {
			target := d.nextName(code)
			err := d.fs.Link(file, target)
			if err == nil {
				break
			}
			if errors.Is(err, fs.ErrExist) {
				continue // another program took that name: the next one is a nanosecond later
			}
			d.warnPause("unable to link to "+name+"/"+target, errtext.WithoutPath(err))
			if !d.sleep() {
				return ErrInterrupted
			}
		}
	}
	if err := d.retry(func() string { return "unable to remove " + name + "/" + file },
		func() error { return d.fs.Remove(file) }); err != nil {
		return err
	}
	return d.prune()
}

// nextName returns a fresh archive name. Names are stamps of the clock, as
// in multilog, but never earlier than the newest archive already there: a
// clock stepped back must not give the newest data the oldest name, which
// would make it the first to be pruned.
func (d *Dir) nextName(code byte) string {
	d.nameMu.Lock()
	defer d.nameMu.Unlock()
	var b [25]byte
	tai64n.FromTime(d.opts.Clock(), tai64n.Daemontools).Append(b[:0])
	if string(b[:]) <= string(d.lastLabel[:]) {
		last, _ := tai64n.ParsePrefix(d.lastLabel[:])
		last.Nano++
		if last.Nano >= 1e9 {
			last.Sec, last.Nano = last.Sec+1, 0
		}
		last.Append(b[:0])
	}
	d.lastLabel = b
	return string(b[:]) + "." + string(code)
}

// scanNames finds the newest archive stamp already in the directory.
func (d *Dir) scanNames() error {
	names, err := d.readNames()
	if err != nil {
		return &errtext.Error{Op: "unable to read", Path: d.opts.Name, Err: err}
	}
	d.nameMu.Lock()
	defer d.nameMu.Unlock()
	for _, n := range names {
		if len(n) >= 25 && n[0] == '@' && n[:25] > string(d.lastLabel[:]) {
			if _, ok := tai64n.ParsePrefix([]byte(n)); ok && strings.ToLower(n[:25]) == n[:25] {
				copy(d.lastLabel[:], n[:25])
			}
		}
	}
	return nil
}

func (d *Dir) readNames() ([]string, error) {
	names, err := d.fs.ReadDirNames()
	return names, errtext.WithoutPath(err)
}

// isArchiveName is multilog's test of what counts against n: any entry
// whose name starts with "@" and is at least 25 bytes long.
func isArchiveName(n string) bool { return len(n) >= 25 && n[0] == '@' }

// oldestArchive chooses what multilog deletes first: the entry whose first
// 25 bytes are smallest, where the search starts from "@z" so that names
// at or above it go last.
func oldestArchive(names []string) string {
	least := "@z"
	for _, n := range names {
		if n < least {
			least = n[:25]
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, least) {
			return n
		}
	}
	return ""
}

// prune deletes archives until at most Keep−1 remain and, with MaxTotal,
// until they fit in MaxTotal bytes.
func (d *Dir) prune() error {
	for {
		var names []string
		if err := d.retry(func() string { return "unable to read " + d.opts.Name }, func() (err error) {
			names, err = d.readNames()
			return err
		}); err != nil {
			return err
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !isArchiveName(n) || d.left.has(n) })
		victim := ""
		if len(names) >= d.opts.Keep {
			victim = oldestArchive(names)
		} else if d.opts.MaxTotal > 0 && len(names) > 1 {
			var total int64
			for _, n := range names {
				if st, err := d.fs.Lstat(n); err == nil {
					total += st.Size()
				}
			}
			if total > d.opts.MaxTotal {
				victim = oldestArchive(names)
			}
		}
		if victim == "" {
			return nil
		}
		d.removeArchive(victim)
	}
}

// removeArchive removes an archive, or, when it cannot be removed (a
// directory named like an archive, a file in a directory that does not let
// it go), says so once and leaves it, no longer counted: multilog retries
// such a removal for ever, and stops logging for good. It reports whether
// the archive is gone.
func (d *Dir) removeArchive(name string) bool {
	d.left.Lock()
	defer d.left.Unlock()
	if d.left.names[name] {
		return false
	}
	var err error
	if st, lerr := d.fs.Lstat(name); lerr == nil && st.IsDir() {
		err = syscall.EISDIR // archives are files: multilog unlinks, it never removes a directory
	} else {
		err = d.fs.Remove(name)
	}
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return true
	}
	d.opts.Warn("unable to remove " + d.opts.Name + "/" + name + ": " + errTextOf(err) + "; leaving it")
	if d.left.names == nil {
		d.left.names = map[string]bool{}
	}
	d.left.names[name] = true
	return false
}

// leftArchives are the archive names that could not be removed.
type leftArchives struct {
	sync.Mutex
	names map[string]bool
}

func (l *leftArchives) has(name string) bool {
	l.Lock()
	defer l.Unlock()
	return l.names[name]
}

// makeRoom deletes the oldest archive to free space on a full disk, if
// more than MinKeep are left (svlogd's N). It reports
// whether it deleted one; the caller retries its write after each.
func (d *Dir) makeRoom() bool {
	if d.opts.MinKeep <= 0 {
		return false
	}
	names, err := d.readNames()
	if err != nil {
		return false
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !isArchiveName(n) || d.left.has(n) })
	if len(names) <= d.opts.MinKeep {
		return false
	}
	victim := oldestArchive(names)
	if victim == "" || !d.removeArchive(victim) {
		return false
	}
	d.opts.Warn("deleted " + d.opts.Name + "/" + victim + " to make room: out of disk space")
	return true
}
