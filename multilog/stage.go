package multilog

import (
	"fmt"
	"time"

	"github.com/taikit/taikit/errtext"
)

// The engine's work on a batch (finding lines, stamping, selecting) and the
// write(2) of its output into each directory take about as long as each
// other, and a write copies in the kernel while the engine copies in user
// space: done one after the other they cost the sum, on two processors
// they can cost the larger. So the runner hands each batch's directory
// output to a writer goroutine (stage) and takes the next batch while the
// writer writes, never more than one batch ahead: at most one batch's
// output waits, and every write still happens in input order.
//
// From a pipe, the writer does everything the lossless path does after
// the engine, in the same order: the record says "writing", the
// directories get the batch, the batch leaves the pipe, the record says
// "done". The batch being processed meanwhile is only in memory (and in
// the status files, which say what was last seen, not what is logged), so
// a kill at any moment leaves the same state as before the writer existed.

// With a pipe on fewer than three processors there is no writer goroutine:
// the engine's goroutine does the writer's work itself, at submit
// (stage.inline). The process filling the pipe needs a processor too, and
// three busy threads on two processors cost more in waiting for each other
// and in handing batches over (two goroutine wake-ups a batch) than the
// overlap gains: measured with cat filling the pipe as fast as it can, the
// writer goroutine made multilog 9 % slower and cost it 19 % more CPU
// (paired whole-process runs, two processors). From a file nothing
// competes, and the writer goroutine makes multilog 5 % faster (15 % with
// the qmail-style script).

// batchTaker is what the engine hands a directory's batch to when it
// writes through one: it keeps the batch and gives back an empty buffer.
type batchTaker interface {
	takeBatch(b []byte) []byte
}

// stagedDir is one directory's side of the stage: the batches the engine
// handed over for the batch being filled, and the buffers to fill next.
// Only the runner's goroutine touches it; the writer sees the batches only
// inside a job.
type stagedDir struct {
	fill  [][]byte
	spare [][]byte
}

func (d *stagedDir) takeBatch(b []byte) []byte {
	d.fill = append(d.fill, b)
	if n := len(d.spare); n > 0 {
		s := d.spare[n-1]
		d.spare = d.spare[:n-1]
		return s[:0]
	}
	return make([]byte, 0, batchCap)
}

// batchCap is the room of a directory's batch buffer: the engine hands a
// batch over once it reaches batchLimit, and one chunk's line (at most a
// read) with its stamp and prefix may take it past that, so a buffer this
// size is never grown, and buffers passed back and forth keep their size.
const batchCap = batchLimit + readSize + 4096

// Write is for the engine's sinks table: an engine always takes the
// batchTaker path, so a Write is a programming error, not a lost line.
func (d *stagedDir) Write(p []byte) (int, error) {
	panic("multilog: stagedDir written to directly")
}

// job is the output of one batch for every directory, and what the pipe
// needs once it is written.
type job struct {
	bufs [][][]byte // per directory, in order

	pipe    *pipeInput // nil: not taken from a pipe, nothing to consume
	consume int        // bytes to remove from the pipe once written
	rec     record     // from a pipe, the record every directory gets while writing
	had     []int64    // per directory, output already there (a repeated batch)

	err        error // the first directory write error
	consumeErr error // the batch could not be removed from the pipe
}

// stage owns the writer goroutine: start it with startStage, stop it with
// stop, which waits for the job in flight.
type stage struct {
	r     *runner
	dirs  []*stagedDir
	jobs  chan *job
	done  chan *job
	busy  bool
	spare *job

	// inline: no writer goroutine; submit writes the job, and wait finds
	// it written in written.
	inline  bool
	written *job
}

// startStage starts the writer goroutine, or with inline makes submit do
// its work.
func (r *runner) startStage(dirs []*stagedDir, inline bool) *stage {
	// Each channel has room for the one job in flight, so that neither side
	// blocks handing it over. Unbuffered, the engine's submit found the
	// writer just woken by the wait before it, not yet receiving: the engine
	// parked, and the writer, run in its place on the engine's processor,
	// kept it through its write(2) while the engine waited to run again
	// (17 ms of a 115 ms run with the qmail-style script, in a trace).
	s := &stage{r: r, dirs: dirs, inline: inline}
	if inline {
		return s
	}
	s.jobs, s.done = make(chan *job, 1), make(chan *job, 1)
	go func() { // owned by the stage: ends when stop closes jobs
		for j := range s.jobs {
			r.write(j)
			s.done <- j
		}
	}()
	return s
}

// submit hands the batches the engine has filled since the last submit to
// the writer, after the job in flight (if any) is done; it reports false
// when that job could not consume its batch, and the input must stop.
func (s *stage) submit(p *pipeInput, consume int, rec record, had []int64) bool {
	if !s.wait() {
		for _, d := range s.dirs { // the batch stays in the pipe, unwritten
			d.spare = append(d.spare, d.fill...)
			clear(d.fill)
			d.fill = d.fill[:0]
		}
		return false
	}
	j := s.spare
	if j == nil {
		j = &job{bufs: make([][][]byte, len(s.dirs))}
	}
	s.spare = nil
	for i, d := range s.dirs {
		j.bufs[i] = append(j.bufs[i][:0], d.fill...)
		d.fill = d.fill[:0]
	}
	j.pipe, j.consume, j.rec, j.had = p, consume, rec, had
	j.err, j.consumeErr = nil, nil
	s.busy = true
	if s.inline {
		s.r.write(j)
		s.written = j
		return true
	}
	s.jobs <- j
	return true
}

// wait waits for the job in flight, if any, gives its buffers back to the
// directories, and says what went wrong with it; it reports false when its
// batch could not be consumed.
func (s *stage) wait() bool {
	if !s.busy {
		return true
	}
	j := s.written
	if j == nil {
		j = <-s.done
	}
	s.written, s.busy = nil, false
	for i, d := range s.dirs {
		d.spare = append(d.spare, j.bufs[i]...)
		clear(j.bufs[i])
		j.bufs[i] = j.bufs[i][:0]
	}
	s.spare = j
	r := s.r
	if j.err != nil {
		r.lose(j.err)
	}
	if j.consumeErr != nil {
		r.lose(j.consumeErr)
		return false
	}
	if j.pipe != nil {
		for _, t := range r.trackers {
			if t.err != nil {
				r.warn(fmt.Sprintf("unable to write %s/%s (a kill may then make the next multilog write some lines twice): %s",
					t.dir, fileUnconsumed, errtext.Of(t.err)))
				t.close()
				t.f, t.err = nil, nil
			}
		}
	}
	for _, o := range r.outs {
		o.skip = 0 // what a batch written only in part did not reach
	}
	return true
}

// flush submits what the engine holds and waits for it to be written.
func (s *stage) flush() bool {
	return s.submit(nil, 0, record{}, nil) && s.wait()
}

func (s *stage) stop() {
	s.wait()
	if !s.inline {
		close(s.jobs)
	}
}

// write is the writer's side of a job: the lossless path's steps after the
// engine, in their order.
func (r *runner) write(j *job) {
	if j.pipe != nil { // trackers exist only for a pipe
		for i, t := range r.trackers {
			rec := j.rec
			rec.gen = t.rec.gen
			if j.had != nil {
				rec.progress = j.had[i]
			}
			t.rec = rec
			t.save()
		}
	}
	for i, bufs := range j.bufs {
		if j.had != nil {
			r.outs[i].skip = j.had[i]
		}
		for _, b := range bufs {
			if _, err := r.outs[i].Write(b); err != nil && j.err == nil {
				j.err = err
			}
		}
	}
	if j.pipe == nil {
		return
	}
	if j.err == nil {
		for _, t := range r.trackers {
			t.rec.state = recWritten
			t.save()
		}
	}
	// Only now, with the bytes in every directory, do they leave the pipe.
	if j.consumeErr = j.pipe.consume(j.consume); j.consumeErr != nil {
		return
	}
	for _, t := range r.trackers {
		t.rec.state = recDone
		t.save()
	}
}

// process hands chunk, read from input that is not a pipe, to the engine
// and its output to the writer, which writes it while the next is read.
//
// lines is how many newlines chunk has, when known (-1: not counted yet).
func (r *runner) process(chunk []byte, lines int) {
	now := r.engine.clock() // one stamp for the read, however it is cut
	for len(chunk) > 0 {
		k := r.engine.cut(chunk, lines)
		lines = -1
		if err := r.engine.ProcessAt(chunk[:k], now); err != nil {
			r.lose(err)
		}
		r.stage.submit(nil, 0, record{}, nil)
		chunk = chunk[k:]
	}
}

// processNow logs chunk at once: the engine, then the writer, waited for.
func (r *runner) processNow(chunk []byte, now time.Time) bool {
	if err := r.engine.ProcessAt(chunk, now); err != nil {
		r.lose(err)
	}
	return r.stage.flush()
}
