package campaign

import (
	"fmt"
	"os"
	"testing"
)

// TestSuperviseCampaign is the supervise half of the fault campaign: a
// crash-looping service, svscan killed with SIGKILL and restarted while
// logged services run, log services that cannot start, and storms of svc
// commands. The commands under test are built once, here; the parts run
// in parallel (they measure CPU time, not wall time, so sharing the
// machine does not bias them). TAIKIT_CAMPAIGN=long makes each part last
// minutes instead of seconds; every part logs its figures as "FIGURE"
// lines (go test -v), which SUPERVISE-RESULTS.md keeps for a long run.
func TestSuperviseCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("the supervise campaign runs processes for a minute; not with -short")
	}
	tools := svBuild(t, t.TempDir())
	t.Run("crash_loop", func(t *testing.T) { t.Parallel(); svCrashLoop(t, tools) })
	t.Run("crash_loop_backoff", func(t *testing.T) { t.Parallel(); svCrashLoopBackoff(t, tools) })
	t.Run("backoff_delays", func(t *testing.T) { t.Parallel(); svBackoffDelays(t, tools) })
	t.Run("svscan_kill9", func(t *testing.T) { t.Parallel(); svScanKill9(t, tools, false) })
	t.Run("svscan_kill9_daemontools", func(t *testing.T) { t.Parallel(); svScanKill9(t, tools, true) })
	t.Run("log_cannot_start", func(t *testing.T) { t.Parallel(); svLogCannotStart(t, tools) })
	t.Run("control_storm", func(t *testing.T) { t.Parallel(); svControlStorm(t, tools) })
}

// svLong reports whether the long form of the campaign was asked for.
func svLong() bool { return os.Getenv("TAIKIT_CAMPAIGN") == "long" }

// svPick returns short, or long in the long form.
func svPick[T any](short, long T) T {
	if svLong() {
		return long
	}
	return short
}

// svFigure logs one figure in the campaign's shape, "FIGURE <test>: <text>".
func svFigure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", t.Name(), fmt.Sprintf(format, args...))
}
