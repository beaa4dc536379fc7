package logread

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An uncompressed archive is read most cheaply from a memory mapping:
// its lines are given as they lie in the page cache, with no copy into a
// buffer, and the pages are brought in by whichever core touches them
// first. Only archives are mapped: they are complete and never written
// again, so the mapping holds the whole file, where "current" grows and
// is read as it grows. Their owner may still truncate one while it is
// mapped (by mistake, or to harm a reader of another account); the bytes
// past the new end are then gone, and touching them faults (SIGBUS),
// which would kill the program. So lines from a mapping are given only to
// a caller that asked for them (Options.Map) and reads them inside Guard,
// which turns that fault into an error.

// mapMin is the smallest archive mapped: for a smaller one the mapping's
// own cost (the call, the page table, the unmapping) is more than the copy
// it saves.
const mapMin = 256 << 10

// mappings are the live mappings, by their first byte, for Guard to tell
// a fault on one of them from any other.
var mappings struct {
	sync.Mutex
	m map[uintptr]mapping
}

type mapping struct {
	n    int
	path string
}

// mapFile maps the first size bytes of f, read only; nil when it cannot.
func mapFile(f *os.File, size int64) []byte {
	if size < mapMin || int64(int(size)) != size {
		return nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	runtime.KeepAlive(f)
	if err != nil {
		return nil // read as any other file
	}
	mappings.Lock()
	if mappings.m == nil {
		mappings.m = make(map[uintptr]mapping)
	}
	mappings.m[uintptr(unsafe.Pointer(&m[0]))] = mapping{len(m), f.Name()}
	mappings.Unlock()
	return m
}

// unmapFile releases a mapping made by mapFile.
func unmapFile(m []byte) {
	mappings.Lock()
	delete(mappings.m, uintptr(unsafe.Pointer(&m[0])))
	mappings.Unlock()
	unix.Munmap(m)
}

// unmapper releases the mappings of archives read, on a goroutine of its
// own, which it starts at the first: the unmapping of a large archive
// (its page tables, and the other core's translation buffer) costs a
// search of 1 GB a tenth of its time, which the reading goroutine no
// longer waits for. The bytes of an archive are no longer given once the
// next file's are, and a caller uses a block only until the next call.
type unmapper struct {
	queue chan []byte
	done  chan struct{}
}

func (u *unmapper) release(m []byte) {
	mappings.Lock()
	delete(mappings.m, uintptr(unsafe.Pointer(&m[0])))
	mappings.Unlock()
	if u.queue == nil {
		u.queue, u.done = make(chan []byte, 4), make(chan struct{})
		go func() { // stopped by stop, which the Reader's Close calls
			defer close(u.done)
			for m := range u.queue {
				unix.Munmap(m)
			}
		}()
	}
	u.queue <- m
}

// stop waits until every mapping released is unmapped.
func (u *unmapper) stop() {
	if u.queue != nil {
		close(u.queue)
		<-u.done
		u.queue = nil
	}
}

// mappedPath returns the path of the file whose live mapping holds addr.
func mappedPath(addr uintptr) (string, bool) {
	mappings.Lock()
	defer mappings.Unlock()
	for start, m := range mappings.m {
		if addr >= start && addr-start < uintptr(m.n) {
			return m.path, true
		}
	}
	return "", false
}

// FaultError is what Guard returns when the function it ran touched bytes
// of a mapped archive that are no longer in the file: the archive was
// truncated while it was being read. The Source the bytes came from must
// then be closed, not read further.
type FaultError struct {
	Path string // the archive's
	Addr uintptr
}

func (e *FaultError) Error() string {
	return "unable to read " + e.Path + ": the archive was truncated while it was being read (not read further: an archive is never to be written to)"
}

// Guard runs f, which reads bytes that a Reader with Options.Map gave
// (the Lines and Lines that its Next and NextLines return, and what they
// do themselves), so that a fault on a truncated mapping becomes a
// *FaultError instead of killing the program. It holds for the goroutine
// that calls it: a goroutine that f starts to read the same bytes must
// run its part inside Guard too, and pass a *FaultError it gets to f's
// goroutine by panicking with it there, which Guard returns as well. Any
// other panic goes on.
func Guard(f func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if fe, ok := v.(*FaultError); ok {
			err = fe
			return
		}
		if re, ok := v.(interface{ Addr() uintptr }); ok {
			if _, ok := v.(runtime.Error); ok {
				if path, ok := mappedPath(re.Addr()); ok {
					err = &FaultError{Path: path, Addr: re.Addr()}
					return
				}
			}
		}
		panic(v)
	}()
	f()
	return nil
}
