package logread

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Decompressing is most of the cost of reading compressed archives (1 GB
// of zstd: 1.0 s of one core; searching what comes out, 0.1 s). With
// Options.ReadAhead the next archives of the listing are decompressed,
// each whole, by goroutines of their own while the Reader gives the lines
// of this one, and the Reader takes a result when it comes to that
// archive, if the archive under that name is still the file decompressed
// (held open meanwhile, so that its identity stays its own). The order of
// the stream is the Reader's own; only the work is done ahead. Anything
// unusual (an error, a listing that changed, a file replaced, an archive
// decompressing to more than maxZstdWindow) leaves the archive to be read
// as without ReadAhead, which then says what is wrong.

// prefetchDepth is how many archives are decompressed ahead: with the one
// the Reader decompresses itself (the first), every core of two is busy.
const prefetchDepth = 2

// prefetch is the decompression of one archive ahead.
type prefetch struct {
	name string
	id   fileID
	size int64
	// mapped: data is a mapping of the file (Options.Map and Scan), not a
	// decompressed copy.
	mapped bool
	scan   any           // Options.Scan's result on data
	f      *os.File      // nil: not prefetched (plain, or not openable)
	done   chan struct{} // closed when data and err are set
	data   []byte
	src    []byte // the compressed file, read whole
	err    error
}

// prefetcher is a Reader's: the archives being decompressed ahead, in the
// order of the listing, and the buffers they reuse.
type prefetcher struct {
	queue []*prefetch
	spare [][]byte // decompressed buffers the Reader is done with
	srcs  [][]byte // compressed ones
	zd    *zstd.Decoder
}

// prefetchNext starts decompressing the archives listed after the one
// opened last, up to prefetchDepth of them.
func (r *Reader) prefetchNext() {
	if !r.opts.ReadAhead {
		return
	}
	pf := &r.pre
	for len(pf.queue) < prefetchDepth && r.listPos+len(pf.queue) < len(r.list) {
		p := &prefetch{name: r.list[r.listPos+len(pf.queue)].preferred(), done: make(chan struct{})}
		pf.queue = append(pf.queue, p)
		f, st, err := openEntry(r.path(p.name))
		if err != nil {
			close(p.done) // the Reader says what it is when it comes to it
			continue
		}
		p.id = idOf(st)
		comp := compOf(f, kindArchive)
		if comp == compPlain && r.opts.Map && r.opts.Scan != nil {
			r.mapAhead(p, f, st.Size)
			continue
		}
		if comp == compPlain || st.Size > maxZstdWindow {
			f.Close()
			close(p.done)
			continue
		}
		if comp == compZstd && pf.zd == nil {
			// One decoder for every prefetch: DecodeAll may run on
			// several goroutines at once. The limits bound the size
			// decompressed too.
			zd, err := zstd.NewReader(nil, append([]zstd.DOption{zstd.WithDecoderConcurrency(prefetchDepth)}, zstdLimits...)...)
			if err != nil {
				f.Close()
				close(p.done)
				continue
			}
			pf.zd = zd
		}
		p.f = f
		p.data, p.src = pf.take(&pf.spare), pf.take(&pf.srcs)
		zd, scan := pf.zd, r.opts.Scan
		go func() { // waited for by takePrefetch and stopPrefetch
			defer close(p.done)
			p.src, p.err = readWhole(f, p.src[:0], st.Size)
			if p.err == nil {
				p.data, p.err = decompressAll(zd, p.src, comp, p.data[:0])
			}
			if p.err == nil && scan != nil {
				p.scan = scan(p.data)
			}
		}()
	}
}

// mapAhead maps an uncompressed archive ahead and runs Options.Scan on
// it on a goroutine of its own.
func (r *Reader) mapAhead(p *prefetch, f *os.File, size int64) {
	m := mapFile(f, size)
	f.Close() // the mapping holds the file
	if m == nil {
		close(p.done)
		return
	}
	p.data, p.mapped, p.size = m, true, size
	scan := r.opts.Scan
	go func() { // waited for by takePrefetch and stopPrefetch
		defer close(p.done)
		var scanned any
		if Guard(func() { scanned = scan(m) }) == nil {
			p.scan = scanned
		}
	}()
}

func (pf *prefetcher) take(pool *[][]byte) []byte {
	n := len(*pool)
	if n == 0 {
		return nil
	}
	b := (*pool)[n-1]
	*pool = (*pool)[:n-1]
	return b
}

// readWhole reads f, of size bytes, into dst.
func readWhole(f *os.File, dst []byte, size int64) ([]byte, error) {
	if int64(cap(dst)) < size+1 {
		dst = make([]byte, 0, size+1)
	}
	return appendAll(dst, io.NewSectionReader(f, 0, math.MaxInt64)) // from the start, whatever f's offset
}

// decompressAll decompresses src whole into dst.
func decompressAll(zd *zstd.Decoder, src []byte, comp compKind, dst []byte) ([]byte, error) {
	if comp == compZstd {
		if err := checkZstdWindow(bytes.NewReader(src)); err != nil {
			return dst, err
		}
		return zd.DecodeAll(src, dst)
	}
	gz, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return dst, err
	}
	gz.Multistream(true)
	return appendAll(dst, gz)
}

// appendAll appends what rd gives to its end to dst, in dst's room while
// it lasts; more than maxZstdWindow bytes is errTooLarge.
func appendAll(dst []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			if len(dst) > maxZstdWindow {
				return dst, errTooLarge
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := rd.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// errTooLarge leaves an archive too large to hold whole to the stream.
var errTooLarge = &decompressError{io.ErrShortBuffer}

// takePrefetch returns the decompressed content of the archive named name
// whose identity is id, if it is the next one decompressed ahead, whole
// and without error. Any other archive means the listing moved on: what
// was decompressed ahead is dropped.
func (r *Reader) takePrefetch(name string, id fileID, size int64, mapped bool) ([]byte, any, bool) {
	pf := &r.pre
	if len(pf.queue) == 0 {
		return nil, nil, false
	}
	p := pf.queue[0]
	if p.name != name {
		r.dropPrefetch()
		return nil, nil, false
	}
	pf.queue = pf.queue[1:]
	<-p.done
	pf.recycle(p)
	if p.mapped && p.id == id && size < p.size {
		// The same file, shorter than when it was mapped ahead: its end
		// was cut off, and is read by no one.
		r.report("read", name, fmt.Errorf("the archive was truncated from %d to %d bytes after it was listed: the last %d bytes are lost (an archive is never to be written to)", p.size, size, p.size-size))
	}
	if p.data == nil || p.mapped != mapped || p.id != id || p.err != nil || mapped && p.size != size {
		r.discard(p)
		return nil, nil, false
	}
	return p.data, p.scan, true
}

// discard lets go of what p holds: a decompressed buffer is kept for
// another, a mapping released.
func (r *Reader) discard(p *prefetch) {
	switch {
	case p.data == nil:
	case p.mapped:
		r.unmapper.release(p.data)
	default:
		r.pre.spare = append(r.pre.spare, p.data[:0])
	}
	p.data = nil
}

// recycle closes p's file and keeps its compressed buffer.
func (pf *prefetcher) recycle(p *prefetch) {
	if p.f != nil {
		p.f.Close()
	}
	if p.src != nil {
		pf.srcs = append(pf.srcs, p.src[:0])
	}
}

// dropPrefetch waits for the archives being decompressed ahead and drops
// them.
func (r *Reader) dropPrefetch() {
	pf := &r.pre
	for _, p := range pf.queue {
		<-p.done
		pf.recycle(p)
		r.discard(p)
	}
	pf.queue = nil
}

// stopPrefetch ends decompressing ahead: for Close.
func (r *Reader) stopPrefetch() {
	r.dropPrefetch()
	if r.pre.zd != nil {
		r.pre.zd.Close()
		r.pre.zd = nil
	}
	r.pre.spare, r.pre.srcs = nil, nil
}
