package rotate

import (
	"fmt"
	"io"
	"time"
)

// Defaults, as daemontools' multilog has them.
const (
	DefaultMaxSize = 99999
	DefaultKeep    = 10
	DefaultPause   = 5 * time.Second

	// cutMargin is how far below MaxSize a line end closes a file.
	cutMargin = 2000
)

// Method is a built-in compression method for archives.
type Method uint8

const (
	NoCompression Method = iota
	Gzip                 // RFC 1952, readable by gunzip and zcat
	Zstd                 // RFC 8878, readable by zstd -d and zstdcat
)

// String names the method as scripts do.
func (m Method) String() string {
	switch m {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return "none"
}

// Compression says how archives are compressed. Compressed archives keep
// daemontools' names ("@<stamp>.s", the name a "!gzip" processor gives
// them); readers recognise the format by its magic number.
type Compression struct {
	Method Method
	// Level is the method's own level: 1–9 for gzip, 1–22 for zstd; 0 is
	// the fastest level that still compresses well (gzip 1, zstd 1).
	Level int
}

// Policy says what happens when the disk refuses data.
type Policy uint8

const (
	// Block pauses and retries until the data is written, as daemontools
	// does: nothing is lost, and the writer (and the service behind a full
	// pipe) waits.
	Block Policy = iota
	// Lossy drops what cannot be written when the disk is full, as svlogd's
	// -L does, so that the service never waits for its logger. What is
	// dropped is counted in Stats and recorded in the log by a marker line
	// as soon as writing works again.
	Lossy
)

// Options configure a Dir. The zero value is multilog's defaults.
type Options struct {
	// MaxSize is the largest size of "current" in bytes (multilog's s;
	// default 99999). A file is closed at the first line end at or after
	// MaxSize−2000 bytes, and a line that does not fit is split at exactly
	// MaxSize. multilog's script clamps it to 4096–16777215; the library
	// accepts any value of at least 4096.
	MaxSize int64

	// Keep is multilog's n: at most Keep−1 archives are kept (default 10,
	// at least 2). Every name that starts with "@" and is at least 25 bytes
	// long counts as an archive, as multilog counts them, so directories
	// shared with other tools are pruned the same way.
	Keep int

	// MaxTotal, when positive, also caps the bytes of all archives together
	// (s6-log's S), counting compressed archives by their compressed size;
	// the oldest go first. The newest archive is always kept.
	MaxTotal int64

	// Period, when positive, rotates a non-empty "current" once it has been
	// open that long (s6-log's R).
	Period time.Duration

	// Processor is a command for /bin/sh to run on every file that is
	// closed, as multilog's "!processor": it reads the file on standard
	// input, and what it writes on standard output becomes the archive.
	// HasProcessor says a processor is set: the empty command is a valid
	// processor (it discards the data, as in daemontools).
	Processor    string
	HasProcessor bool

	// Compression compresses archives in-process. It cannot be combined
	// with a processor (a processor can compress by itself).
	Compression Compression

	// Policy says what happens when the disk is full; the default blocks.
	Policy Policy

	// MinKeep, when positive, lets a full disk delete the oldest archives
	// to make room, under either policy, as long as more than MinKeep are
	// left (svlogd's N); 0 deletes none.
	MinKeep int

	// Name is the directory as the user named it, for messages ("./main");
	// by default the path given to Open.
	Name string

	// Clock names archives and times Period; time.Now by default.
	Clock func() time.Time

	// Pause is how long to wait before retrying a failed operation;
	// DefaultPause by default.
	Pause time.Duration

	// Warn receives warnings without a program prefix: "unable to write to
	// ./main/current, pausing: out of disk space"; nil drops them. The
	// multilog command prints them as "multilog: warning: <text>".
	Warn func(text string)

	// Stderr is the processor's standard error; nil means the null device,
	// as with exec.Cmd.
	Stderr io.Writer

	// Interrupt, when closed, ends every pause at once, as Dir.Interrupt
	// does; unlike that method it also reaches Open, which may pause while
	// recovering a directory (what SIGTERM must be able to stop).
	Interrupt <-chan struct{}

	// Track, when set, is told current's inode number and size just
	// before and just after each write(2) of data given to Write. A
	// program that must know, after being killed, how much of its data
	// reached the directory (multilog's "unconsumed" record) keeps the
	// last pair: bytes in that file beyond that size were written by the
	// call the kill cut short. Around bytes that are not Write's data (the
	// Lossy policy's marker) it is told 0, 0 before, and the file and its
	// size after.
	Track func(ino uint64, size int64)

	// RawWrites makes each write(2) of data given to Write a raw system
	// call (syscall.RawSyscall), which keeps the writing goroutine's
	// processor (P) through the call instead of offering it to other
	// goroutines. A write to a local file system is a copy into the page
	// cache, processor work like any other; offered the processor of every
	// such write that lasts over 20 µs, Go's scheduler keeps its monitor
	// thread waking every 20 µs to take it, which on a machine whose
	// processors are all busy costs more than the write (multilog, with a
	// reader and a writer thread beside its engine on two processors: a
	// tenth of the time with a pattern script, a twentieth without, and no
	// more runs 20 % slower than the rest). A write that sleeps (dirty-page
	// throttling, a network file system) holds the processor as long, so
	// leave it false with GOMAXPROCS 1, or where writes can block for long
	// and other goroutines must run meanwhile. It applies to the real file
	// system (OpenDirFS).
	RawWrites bool

	// OpenFS opens the directory; OpenDirFS by default. Tests wrap it to
	// inject faults.
	OpenFS func(path string) (FS, error)
}

// withDefaults fills in zero fields and checks the rest.
func (o Options) withDefaults(path string) (Options, error) {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxSize < 4096 {
		return o, fmt.Errorf("rotate: MaxSize %d is below 4096", o.MaxSize)
	}
	if o.Keep == 0 {
		o.Keep = DefaultKeep
	}
	if o.Keep < 2 {
		o.Keep = 2
	}
	if o.HasProcessor && o.Compression.Method != NoCompression {
		return o, fmt.Errorf("rotate: a processor and built-in compression cannot be combined")
	}
	if o.Name == "" {
		o.Name = path
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Pause == 0 {
		o.Pause = DefaultPause
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	return o, nil
}
