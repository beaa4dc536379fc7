package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control/controltest"
)

// TestNeedsUnderSvscan runs a scan directory under taikit's svscan and
// supervise, built from this tree:
//
//   - a chain a → b → c (a needs b needs c), each with a slow check:
//     svscan alone starts them c, b, a, each once the one it needs is
//     ready, and svctl stop -a stops them a, b, c (the order is what the
//     services recorded, not times);
//   - a cycle p → q → p: refused by both supervisors, in words, and
//     nothing in it starts; svctl start refuses it too;
//   - lonely, which needs a service that does not exist: reported;
//   - waiter, which needs held (down): svstat says "waiting for held",
//     daemontools' svstat reads the same status as down and wanted up,
//     and daemontools' svc -u on held lets waiter start.
func TestNeedsUnderSvscan(t *testing.T) {
	for _, p := range []string{"/usr/bin/svc", "/usr/bin/svstat"} {
		testref.Need(t, p)
	}
	svscan := controltest.Command(t, "svscan")
	controltest.Ours(t) // beside svscan, found through $PATH
	svstat := controltest.Command(t, "svstat")
	root := t.TempDir()
	ev := filepath.Join(root, "events")
	service := func(name string, needs ...string) string {
		dir := controltest.Service(t, root, name, map[string]string{
			"run": "trap 'echo stop " + name + " >> " + ev + "; exit 0' TERM; echo start " + name + " >> " + ev +
				"; while :; do sleep 0.1; done",
			// Slow, and ready only once run has said it started.
			"check": "sleep 0.3; grep -qx 'start " + name + "' " + ev + " || exit 1; grep -qx 'ready " + name + "' " + ev +
				" || echo ready " + name + " >> " + ev,
		})
		if len(needs) > 0 {
			os.Mkdir(filepath.Join(dir, supervise.NeedsDir), 0o755)
		}
		for _, n := range needs {
			// A link, as s6-rc and nosh users write them; only its name counts.
			if err := os.Symlink("../../"+n, filepath.Join(dir, supervise.NeedsDir, n)); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	service("a", "b")
	service("b", "c")
	service("c")
	service("p", "q")
	service("q", "p")
	service("lonely", "ghost")
	service("waiter", "held")
	held := service("held")
	os.WriteFile(filepath.Join(held, "down"), nil, 0o644)

	cmd := exec.Command(svscan, root)
	cmd.Env = testref.Environ("PATH=" + controltest.BinDir() + ":/usr/bin:/bin")
	stderr := &testref.Buffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("svscan's standard error:\n%s", stderr)
		}
	})

	// The events of the chain only: the other services write theirs too.
	chain := func() string {
		b, _ := os.ReadFile(ev)
		var out []string
		for l := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) == 2 && strings.Contains("abc", f[1]) {
				out = append(out, l)
			}
		}
		return strings.Join(out, ", ")
	}
	testref.WaitFor(t, "the chain ready", func() bool { return strings.HasSuffix(chain(), "ready a") })
	if got, want := chain(), "start c, ready c, start b, ready b, start a, ready a"; got != want {
		t.Fatalf("svscan started the chain as %q, want %q", got, want)
	}

	cycleA := "supervise: warning: p/needs: a cycle: p needs q, q needs p; not starting run until it is broken (remove one of these needs entries)\n"
	cycleB := "supervise: warning: q/needs: a cycle: q needs p, p needs q; not starting run until it is broken (remove one of these needs entries)\n"
	missing := "supervise: warning: lonely/needs/ghost: no service ghost in " + root + "; not starting run until there is one (or remove needs/ghost)\n"
	testref.WaitFor(t, "the cycle and the missing service reported", func() bool {
		s := stderr.String()
		return strings.Contains(s, cycleA) && strings.Contains(s, cycleB) && strings.Contains(s, missing)
	})
	extra := func(name string) supervise.Extra { e, _ := supervise.ReadExtra(filepath.Join(root, name)); return e }
	testref.WaitFor(t, "waiter, p and lonely held back", func() bool {
		return extra("waiter").Waiting == "held" && extra("p").Cycle == "q" && extra("lonely").Missing == "ghost"
	})
	out := testref.Run(t, nil, nil, svstat, filepath.Join(root, "waiter"), filepath.Join(root, "p"), filepath.Join(root, "lonely"))
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(root) + `/waiter: down \d+ seconds, normally up, want up, waiting for held\n` +
		regexp.QuoteMeta(root) + `/p: down \d+ seconds, normally up, want up, waiting for q \(a cycle\)\n` +
		regexp.QuoteMeta(root) + `/lonely: down \d+ seconds, normally up, want up, waiting for ghost \(no such service\)\n$`)
	if !want.Match(out) {
		t.Errorf("svstat:\n%s", out)
	}
	ref := testref.Run(t, nil, nil, "/usr/bin/svstat", filepath.Join(root, "waiter"))
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(root) + `/waiter: down \d+ seconds, normally up, want up\n$`).Match(ref) {
		t.Errorf("daemontools' svstat on a waiting service: %q", ref)
	}

	code, _, errs := svctl(t, "svctl", "-w", "5", "start", filepath.Join(root, "p"))
	if code != 1 || !strings.Contains(errs, "svctl: warning: unable to start "+root+"/p: a cycle of needs: p needs q, q needs p (remove one of these needs entries); left it as it was\n") {
		t.Errorf("svctl start p: exit %d, stderr %q", code, errs)
	}
	b, _ := os.ReadFile(ev)
	for _, name := range []string{"p", "q", "lonely", "waiter", "held"} {
		if slices.Contains(strings.Split(string(b), "\n"), "start "+name) {
			t.Errorf("%s started", name)
		}
	}

	testref.Run(t, nil, nil, "/usr/bin/svc", "-u", held)
	testref.WaitFor(t, "waiter started once held was ready", func() bool {
		b, _ := os.ReadFile(ev)
		lines := strings.Split(string(b), "\n")
		i, j := slices.Index(lines, "ready held"), slices.Index(lines, "start waiter")
		return i >= 0 && j > i
	})

	os.Remove(ev)
	code, _, errs = svctl(t, "svctl", "stop", "-a", root)
	if code != 0 || errs != "" {
		t.Errorf("svctl stop -a: exit %d, stderr %q", code, errs)
	}
	if got, want := chain(), "stop a, stop b, stop c"; got != want {
		t.Errorf("svctl stop -a stopped the chain as %q, want %q", got, want)
	}
	b, _ = os.ReadFile(ev)
	if lines := strings.Split(string(b), "\n"); slices.Index(lines, "stop waiter") > slices.Index(lines, "stop held") {
		t.Errorf("held stopped before waiter, which needs it: %q", b)
	}
}
