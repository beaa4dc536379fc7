package main

// Peak RSS needs care on Linux. The ru_maxrss that wait4 returns is not simply the child's
// own peak: at exec the kernel folds the high-water mark of the image being replaced into it,
// and Go starts children with vfork semantics, so that image is the harness's own. Every child
// therefore reports at least the harness's peak RSS (golang/go#32054), which is more than a
// small C tool ever uses. So: when ru_maxrss exceeds the harness's peak it is the child's own
// and exact; otherwise the child's peak is taken from VmHWM in /proc/<pid>/status, which
// belongs to the current image alone, polled while the child runs.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// hwmInterval is how often a running child's VmHWM is polled: often enough to see the peak of
// programs that allocate their buffers early, rarely enough to cost the machine nothing.
const hwmInterval = 5 * time.Millisecond

// RSS kinds, shown before the number in the table.
const (
	rssExact   = ""  // from rusage, above the harness's own peak
	rssSampled = "~" // polled VmHWM: a lower bound that misses at most a final few ms of growth
	rssAtMost  = "≤" // rusage, not above the harness's peak, and the child ended before a poll
)

// readHWM returns VmHWM from a /proc/<pid>/status file in bytes, or 0 when it cannot (no /proc,
// or the process is a zombie whose memory is already gone).
func readHWM(statusPath string) int64 {
	b, err := os.ReadFile(statusPath)
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("\nVmHWM:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}

// hwmSampler polls one process's VmHWM in the background.
type hwmSampler struct {
	stop chan struct{}
	peak chan int64
}

func sampleHWM(pid int) *hwmSampler {
	s := &hwmSampler{stop: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		path := fmt.Sprintf("/proc/%d/status", pid)
		tick := time.NewTicker(hwmInterval)
		defer tick.Stop()
		// No poll right at the start: just after exec the new image has hardly any pages
		// yet, and a program that ends before the first tick had better be reported as
		// unknown than as implausibly small.
		var peak int64
		for polling := true; ; {
			select {
			case <-s.stop:
				s.peak <- peak
				return
			case <-tick.C:
			}
			if polling {
				hwm := readHWM(path)
				peak = max(peak, hwm)
				polling = hwm > 0 // gone, or no /proc: nothing more to learn
			}
		}
	}()
	return s
}

// Stop ends polling and returns the highest VmHWM seen, 0 if none.
func (s *hwmSampler) Stop() int64 {
	close(s.stop)
	return <-s.peak
}

// peakRSS combines the child's rusage maximum and its polled VmHWM into the best estimate of
// its own peak, with the kind of that estimate.
func peakRSS(rusage, sampled, harnessPeak int64) (int64, string) {
	switch {
	case rusage > harnessPeak:
		return rusage, rssExact
	case sampled > 0:
		return sampled, rssSampled
	default:
		return rusage, rssAtMost
	}
}
