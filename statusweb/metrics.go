package statusweb

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taikit/taikit/observe"
)

// The metrics, each with its help text: what a user alerting on them
// needs to know. The man page (svstatd.8) lists the same.
var (
	svcLabels = []string{"service"}
	logLabels = []string{"logdir", "service"}

	descSuperviseRunning = prometheus.NewDesc("taikit_supervise_running",
		"1 if a supervisor runs for the service (svok), else 0.", svcLabels, nil)
	descNormallyUp = prometheus.NewDesc("taikit_service_normally_up",
		"1 if the service directory has no down file, else 0.", svcLabels, nil)
	descUp = prometheus.NewDesc("taikit_service_up",
		"1 if the service's run process is running, else 0.", svcLabels, nil)
	descWantUp = prometheus.NewDesc("taikit_service_want_up",
		"1 if the supervisor restarts run whenever it exits (svc -u), 0 if it was told down or once.", svcLabels, nil)
	descPaused = prometheus.NewDesc("taikit_service_paused",
		"1 if run was paused with svc -p (SIGSTOP), else 0.", svcLabels, nil)
	descChange = prometheus.NewDesc("taikit_service_state_change_timestamp_seconds",
		"When run last started or exited, in seconds since the epoch.", svcLabels, nil)
	descReady = prometheus.NewDesc("taikit_service_ready",
		"1 if run is up and ready (its check script exited 0, or it has none), else 0; taikit's supervise only.", svcLabels, nil)
	descRestarts = prometheus.NewDesc("taikit_service_restarts_total",
		"Automatic restarts of run since its supervisor started; taikit's supervise only.", svcLabels, nil)
	descExitCode = prometheus.NewDesc("taikit_service_last_exit_code",
		"Exit code of run's last exit, -1 if a signal ended it; after a first exit, taikit's supervise only.", svcLabels, nil)
	descExitSignal = prometheus.NewDesc("taikit_service_last_exit_signal",
		"Signal that ended run's last exit, 0 if it exited; after a first exit, taikit's supervise only.", svcLabels, nil)
	descBackoff = prometheus.NewDesc("taikit_service_backoff_seconds",
		"Seconds of the restart backoff wait under way, 0 if none; taikit's supervise only.", svcLabels, nil)
	descGaveUp = prometheus.NewDesc("taikit_service_gave_up",
		"1 if the supervisor gave up restarting run after too many fast exits (backoff file), else 0; taikit's supervise only.", svcLabels, nil)

	descHeld = prometheus.NewDesc("taikit_service_held",
		"1 if the supervisor holds run back until services it needs (needs/) are up and ready, or because one is missing or needs it back, else 0; taikit's supervise only.", svcLabels, nil)

	descLogBytes = prometheus.NewDesc("taikit_logdir_bytes",
		"Size of the log directory's files: archives, a rotation in progress and current.", logLabels, nil)
	descLogArchives = prometheus.NewDesc("taikit_logdir_archives",
		"Number of archives (@*.s and @*.u) in the log directory.", logLabels, nil)
	descLogLastWrite = prometheus.NewDesc("taikit_logdir_last_write_timestamp_seconds",
		"When current was last written, in seconds since the epoch.", logLabels, nil)
	descLogOldest = prometheus.NewDesc("taikit_logdir_oldest_timestamp_seconds",
		"Stamp of the oldest line kept (for unstamped lines, when the oldest archive was closed), in seconds since the epoch.", logLabels, nil)

	descLagBytes = prometheus.NewDesc("taikit_logdir_cursor_lag_bytes",
		"Bytes of the log directory after the cursor named for it (--cursor): what its reader (a shipper, logcat --cursor) has yet to read; a lower bound beyond 64 MiB.", logLabels, nil)
	descLagSeconds = prometheus.NewDesc("taikit_logdir_cursor_lag_seconds",
		"Age of the first line after the cursor named for the log directory (by its stamp), 0 when its reader has read everything.", logLabels, nil)
	descCursorGap = prometheus.NewDesc("taikit_logdir_cursor_gap",
		"1 if files of the log directory were pruned before the cursor's reader read them, else 0.", logLabels, nil)

	descErrors = prometheus.NewDesc("taikit_svstatd_errors",
		"Services and log directories that could not be read at this scrape, and scan directories that could not be listed.", nil, nil)
	descDuration = prometheus.NewDesc("taikit_svstatd_scrape_duration_seconds",
		"How long reading the status and log directories took at this scrape.", nil, nil)
)

// Collector is a prometheus.Collector that reads a Tree at every scrape:
// nothing is cached between scrapes but the oldest stamp of each log
// directory (see observe).
type Collector struct {
	Tree *observe.Tree

	seen func(*observe.Snapshot) // told each snapshot, for WriteMetrics
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSuperviseRunning, descNormallyUp, descUp, descWantUp, descPaused,
		descChange, descReady, descRestarts, descExitCode, descExitSignal, descBackoff, descGaveUp, descHeld,
		descLogBytes, descLogArchives, descLogLastWrite, descLogOldest, descLagBytes, descLagSeconds, descCursorGap,
		descErrors, descDuration} {
		ch <- d
	}
}

// Collect reads the tree and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	begin := time.Now()
	snap := c.Tree.Snapshot()
	took := time.Since(begin)
	if c.seen != nil {
		c.seen(&snap)
	}
	errs := len(snap.Errors)
	for i := range snap.Services {
		s := &snap.Services[i]
		notSupervised := s.RunningKnown() && !s.Supervised // not an error: svscan may not run
		if s.Error != "" && !notSupervised {
			errs++
		}
		collectService(ch, s)
	}
	for i := range snap.LogDirs {
		d := &snap.LogDirs[i]
		if d.Error != "" {
			errs++
			continue
		}
		l := []string{d.Name, d.Service}
		gauge(ch, descLogBytes, float64(d.Bytes), l...)
		gauge(ch, descLogArchives, float64(d.Archives), l...)
		if !d.LastWrite.IsZero() {
			gauge(ch, descLogLastWrite, seconds(d.LastWrite), l...)
		}
		if !d.Oldest.IsZero() {
			gauge(ch, descLogOldest, seconds(d.Oldest), l...)
		}
		if d.Cursor != "" && d.CursorError != "" {
			errs++
		} else if d.Cursor != "" {
			gauge(ch, descLagBytes, float64(d.Behind), l...)
			gauge(ch, descLagSeconds, d.BehindSeconds(snap.Time), l...)
			gauge(ch, descCursorGap, b2f(d.CursorGap), l...)
		}
	}
	gauge(ch, descErrors, float64(errs))
	gauge(ch, descDuration, took.Seconds())
}

// collectService sends what is known of s: whether it is supervised and
// normally up always (unless its directory cannot be read), the status
// record's fields under a supervisor, and supervise/extra's under
// taikit's.
func collectService(ch chan<- prometheus.Metric, s *observe.Service) {
	name := s.Name
	if !s.DirRead() {
		return
	}
	gauge(ch, descNormallyUp, b2f(s.NormallyUp), name)
	if !s.RunningKnown() {
		return
	}
	gauge(ch, descSuperviseRunning, b2f(s.Supervised), name)
	if !s.Supervised || s.Error != "" {
		return
	}
	gauge(ch, descUp, b2f(s.Up), name)
	gauge(ch, descWantUp, b2f(s.Want == "up"), name)
	gauge(ch, descPaused, b2f(s.Paused && s.Up), name)
	gauge(ch, descChange, seconds(s.Since), name)
	if !s.Extra {
		return
	}
	if ready, ok := s.Ready(); ok {
		gauge(ch, descReady, b2f(ready), name)
	}
	ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(s.Restarts), name)
	if s.LastExit != nil {
		gauge(ch, descExitCode, float64(s.LastExit.Code), name)
		gauge(ch, descExitSignal, float64(s.LastExit.Signal), name)
	}
	gauge(ch, descBackoff, float64(s.Backoff), name)
	gauge(ch, descGaveUp, b2f(s.GaveUp > 0), name)
	gauge(ch, descHeld, b2f(len(s.Waiting)+len(s.Missing)+len(s.Cycle) > 0), name)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
