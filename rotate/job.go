package rotate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/errtext"
)

// job is the processing of one rotated file ("previous") into its archive,
// run beside the writer so that input keeps flowing into the new current.
// Its goroutine belongs to the Dir: the next rotation or Close waits for it.
type job struct {
	done chan struct{}
	err  error
}

func (d *Dir) startJob() *job {
	j := &job{done: make(chan struct{})}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		defer close(j.done)
		if j.err = d.settlePrevious(); j.err != nil {
			return
		}
		switch {
		case d.opts.HasProcessor:
			j.err = d.processLoop()
		case d.opts.Compression.Method != NoCompression:
			j.err = d.compressLoop()
		default:
			j.err = d.archive(filePrevious, 's')
		}
	}()
	return j
}

// finishJob waits for the running job, if any.
func (d *Dir) finishJob() error {
	if d.job == nil {
		return nil
	}
	<-d.job.done
	err := d.job.err
	d.job = nil
	return err
}

// processLoop runs the processor until it succeeds, then completes as
// multilog does: "processed" made durable and marked complete (mode 0744),
// "newstate" made durable, "previous" removed, "newstate" renamed to
// "state", and "processed" archived as ".s". Failures are retried after a
// pause, for ever, as in multilog; Interrupt ends the loop and keeps the
// unprocessed file as a ".u" archive.
func (d *Dir) processLoop() error {
	name := d.opts.Name
	for {
		crashed, err := d.runProcessor()
		if err == nil {
			break
		}
		if errors.Is(err, ErrInterrupted) {
			return d.salvagePrevious()
		}
		d.stats.pauses.Add(1)
		if crashed {
			d.opts.Warn("processor crashed in " + name + ", pausing: " + err.Error())
		} else {
			d.opts.Warn("processor failed in " + name + ", pausing")
		}
		if !d.sleep() {
			return d.salvagePrevious()
		}
	}
	return d.completeProcessed(true)
}

// runProcessor runs the processor once with multilog's descriptors:
// "previous" on 0, a truncated "processed" on 1, "state" on 4 and a
// truncated "newstate" on 5, in the log directory. crashed reports death by
// a signal.
func (d *Dir) runProcessor() (crashed bool, err error) {
	var files [4]File // previous, processed, state, newstate
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	// multilog creates "state" only when it recovers from a crash, so a
	// directory continued after a clean stop without one (or written by
	// svlogd, which has none) made its processor fail for ever. Start from
	// an empty state instead, as svlogd does.
	if _, err := d.fs.Lstat(fileState); errors.Is(err, fs.ErrNotExist) {
		if f, err := d.create(fileState, os.O_WRONLY, 0o644); err == nil {
			f.Close()
		}
	}
	opens := []struct {
		name string
		flag int
	}{
		{filePrevious, os.O_RDONLY},
		{fileProcessed, os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
		{fileState, os.O_RDONLY},
		{fileNewState, os.O_WRONLY | os.O_CREATE | os.O_TRUNC},
	}
	for i, o := range opens {
		f, err := d.openFile(o.name, o.flag, 0o644)
		if err == nil && o.flag&os.O_CREATE != 0 {
			err = f.Chmod(0o644)
		}
		if err != nil {
			// multilog's child says this and exits 111; it then counts
			// as a failed run.
			d.cannotRun(err)
			return false, errors.New("unable to run processor")
		}
		files[i] = f
	}
	var osf [4]*os.File
	for i, f := range files {
		var ok bool
		if osf[i], ok = osFileOf(f); !ok {
			return false, errors.New("rotate: the FS gives files a processor cannot inherit")
		}
	}
	cmd := exec.Command("/bin/sh", "-c", d.opts.Processor)
	cmd.Dir = d.abs
	cmd.Stdin, cmd.Stdout, cmd.Stderr = osf[0], osf[1], d.opts.Stderr
	cmd.ExtraFiles = []*os.File{nil, osf[2], osf[3]} // descriptors 3 (closed), 4, 5
	// Its own process group, so that abandoning it stops everything it
	// started (a "sleep" in a shell script would otherwise live on).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		d.cannotRun(err)
		return false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	interrupted := false
	select {
	case err = <-exited:
	case <-d.opts.Interrupt:
		interrupted = true
	case <-d.stop:
		interrupted = true
	}
	if interrupted {
		pgid := -cmd.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(d.opts.Pause):
			syscall.Kill(pgid, syscall.SIGKILL)
			<-exited
		}
		return false, ErrInterrupted
	}
	if err == nil {
		return false, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return true, errors.New("killed by signal " + strconv.Itoa(int(ws.Signal())) + " (" + ws.Signal().String() + ")")
		}
	}
	return false, err
}

// cannotRun says on the processor's standard error what multilog's child
// says there when it cannot start the processor, "<program>: fatal: unable
// to run <processor>: <reason>", that being where the processor's own
// messages go.
func (d *Dir) cannotRun(err error) {
	if d.opts.Stderr != nil {
		fmt.Fprintf(d.opts.Stderr, "%s: fatal: unable to run %s: %s\n",
			filepath.Base(os.Args[0]), d.opts.Processor, errTextOf(err))
	}
}

// completeProcessed finishes a successful processing run (multilog's
// sequence after the processor exits 0). withState moves "newstate" to
// "state", as a processor's run does; compression leaves "state" alone.
func (d *Dir) completeProcessed(withState bool) error {
	name := d.opts.Name
	if err := d.retry(func() string { return "unable to write " + name + "/processed to disk" }, func() error {
		f, err := d.openFile(fileProcessed, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return err
		}
		return f.Chmod(0o744)
	}); err != nil {
		return err
	}
	if withState {
		if err := d.retry(func() string { return "unable to write " + name + "/newstate to disk" },
			func() error { return d.syncFile(fileNewState) }); err != nil {
			return err
		}
	}
	if err := d.retry(func() string { return "unable to remove " + name + "/previous" },
		func() error { return d.fs.Remove(filePrevious) }); err != nil {
		return err
	}
	if withState {
		if err := d.retry(func() string { return "unable to rename newstate to state in directory " + name },
			func() error { return d.fs.Rename(fileNewState, fileState) }); err != nil {
			return err
		}
	}
	return d.archive(fileProcessed, 's')
}

// salvagePrevious keeps an unprocessed "previous" as a ".u" archive when
// processing is abandoned, exactly what crash recovery would do with it.
// Nothing is lost, so the rotation that waits for the job goes on.
func (d *Dir) salvagePrevious() error {
	d.fs.Remove(fileProcessed)
	d.fs.Remove(fileNewState)
	return d.archive(filePrevious, 'u')
}

// compressLoop compresses "previous" into "processed" in-process and then
// completes as a processor run does. Failures (a full disk, most often)
// are retried after a pause.
func (d *Dir) compressLoop() error {
	for {
		err := d.compressOnce()
		if err == nil {
			return d.completeProcessed(false)
		}
		d.warnPause("unable to compress "+d.opts.Name+"/previous", errtext.WithoutPath(err))
		if !d.sleep() {
			return d.salvagePrevious()
		}
	}
}

func (d *Dir) compressOnce() error {
	src, err := d.openFile(filePrevious, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := d.openFile(fileProcessed, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.Chmod(0o644); err != nil {
		return err
	}
	// One encoder per Dir, reset for each file: jobs run one at a time.
	var enc io.WriteCloser
	switch d.opts.Compression.Method {
	case Gzip:
		if d.gzipEnc == nil {
			level := d.opts.Compression.Level
			if level == 0 {
				level = gzip.BestSpeed
			}
			if d.gzipEnc, err = gzip.NewWriterLevel(dst, level); err != nil {
				return err
			}
		}
		d.gzipEnc.Reset(dst)
		enc = d.gzipEnc
	case Zstd:
		if d.zstdEnc == nil {
			level := d.opts.Compression.Level
			if level == 0 {
				level = 1
			}
			// Every core: at full input speed the writer waits for it.
			if d.zstdEnc, err = zstd.NewWriter(dst, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
				zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0))); err != nil {
				return err
			}
		}
		d.zstdEnc.Reset(dst)
		enc = d.zstdEnc
	default:
		return fmt.Errorf("unknown compression method %d", d.opts.Compression.Method)
	}
	if d.copyBuf == nil {
		d.copyBuf = make([]byte, 256<<10)
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{enc}, struct{ io.Reader }{src}, d.copyBuf); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}
