package statusweb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/supervise/control"
	"github.com/taikit/taikit/supervise/control/controltest"
	"github.com/taikit/taikit/tai64n"
)

const chromium = "/usr/bin/chromium"

// screenshotEnv names a file to write the page's screenshot to as well as
// the test's directory (and the phone's beside it, NAME-phone.png): how
// doc/svstatd.png is made.
const screenshotEnv = "TAIKIT_SVSTATD_SCREENSHOT"

// browser starts a headless Chromium for the test and returns its
// context, and the console messages that are errors or warnings so far.
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	testref.Need(t, chromium)
	// Chromium makes a directory in $TMPDIR for its singleton socket and,
	// killed at the end, never removes it: in the test's, it goes with it.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.UserDataDir(t.TempDir()), chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.WindowSize(1100, 640))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	var mu sync.Mutex
	var problems []string
	done := make(chan struct{})
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
				mu.Lock()
				problems = append(problems, string(m.Type)+": "+m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), problems...)
	}
}

// until waits, in the page, for the JavaScript expression to be true,
// looking again at each change of the page.
func until(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(testref.Patience))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, html)
	}
}

// TestPage opens the page in a real browser: every service is listed with
// its state, a change of state shows without a reload, the log of the
// service selected shows its last lines and then a new one as it is
// written, with its stamp in local time, the page fits a phone's width, and
// the console stays clean.
func TestPage(t *testing.T) {
	ctx, consoleProblems := browser(t)
	f := newFixture(t)
	url := serve(t, &statusweb.Server{Tree: f.tree(), Zone: tai64n.Location(time.Local)})

	must(t, chromedp.Do(ctx, chromedp.Navigate(url+"/")))
	until(t, ctx, "the services", `document.querySelectorAll('#services tbody tr').length === 5`)
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#services tbody tr')].map(r => r.dataset.service)`))
	must(t, err)
	if strings.Join(names, " ") != "batch idle old web web/log" {
		t.Errorf("services listed: %q", names)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#services tbody tr')].map(r => [...r.cells].map(c => c.textContent).join(' | '))`))
	must(t, err)
	for _, want := range []string{
		"batch | down | ", // normally down: as svstat, said only when it differs
		"idle | supervise not running | ",
		"old | up | ",
		"web | up | ",
	} {
		found := false
		for _, r := range rows {
			found = found || strings.HasPrefix(r, want)
		}
		if !found {
			t.Errorf("no row beginning %q in\n%s", want, strings.Join(rows, "\n"))
		}
	}
	for _, r := range rows {
		switch {
		case strings.HasPrefix(r, "web | "):
			if !strings.Contains(r, "| ready ") || !strings.HasSuffix(r, "| 0 | —") {
				t.Errorf("web: %q", r)
			}
		case strings.HasPrefix(r, "batch | "):
			if !strings.HasSuffix(r, "| exit 3") {
				t.Errorf("batch: %q", r)
			}
		case strings.HasPrefix(r, "old | "):
			if !strings.HasSuffix(r, "| — | — | —") {
				t.Errorf("old (daemontools' supervise: nothing known of readiness, restarts, exits): %q", r)
			}
		}
	}

	web := filepath.Join(f.scan, "web")
	must(t, supervise.Control(web, "d"))
	until(t, ctx, "web shown down", `document.querySelector('tr[data-service="web"] td.state').dataset.s === 'down'`)
	must(t, supervise.Control(web, "u"))
	until(t, ctx, "web shown up and ready again", `document.querySelector('tr[data-service="web"] td.state').dataset.s === 'up' &&
		document.querySelector('tr[data-service="web"]').cells[3].textContent.startsWith('ready')`)

	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-service="web"]`))))
	until(t, ctx, "the log's last lines", `document.getElementById('lines').textContent.includes('three')`)
	if hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('actions').hidden`)); err != nil || !hidden {
		t.Errorf("control is off, yet the page offers it (hidden %v, %v)", hidden, err)
	}
	current := filepath.Join(f.scan, "web", "log", "main", "current")
	stamp := time.Now().Truncate(time.Second)
	fl, err := os.OpenFile(current, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = fl.WriteString(stamped(stamp, "a line written while the page is open"))
	must(t, err)
	must(t, fl.Close())
	written := time.Now()
	until(t, ctx, "the new line", `document.getElementById('lines').textContent.includes('a line written while the page is open')`)
	t.Logf("the new line showed %v after it was written", time.Since(written))
	last, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('lines').lastElementChild.textContent`))
	must(t, err)
	if want := stamp.Format("2006-01-02 15:04:05.000000000") + " a line written while the page is open"; last != want {
		t.Errorf("last line %q, want %q (local time)", last, want)
	}

	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(t.TempDir(), "svstatd.png"), shot, 0o644))
	if path := os.Getenv(screenshotEnv); path != "" {
		must(t, os.WriteFile(path, shot, 0o644))
	}

	// A phone: nothing wider than the screen.
	must(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile)))
	until(t, ctx, "the page laid out for a phone", `document.documentElement.scrollWidth <= window.innerWidth`)
	phone, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(t.TempDir(), "svstatd-phone.png"), phone, 0o644))
	if path := os.Getenv(screenshotEnv); path != "" {
		must(t, os.WriteFile(strings.TrimSuffix(path, ".png")+"-phone.png", phone, 0o644))
	}

	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("console:\n%s", strings.Join(p, "\n"))
	}
}

// TestPageControl: with a token, the page's stop and start buttons
// control the service selected and say the outcome.
func TestPageControl(t *testing.T) {
	ctx, consoleProblems := browser(t)
	scan := filepath.Join(t.TempDir(), "service")
	t.Cleanup(func() { testref.KillUnder(scan) })
	dir := controltest.Service(t, scan, "web", map[string]string{"run": "exec sleep 1000", "check": "exit 0"})
	controltest.Supervise(t, controltest.Ours(t), dir)
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}, ControlToken: []byte(token),
		Control: control.Options{Timeout: testref.Patience}})

	must(t, chromedp.Do(ctx, chromedp.Navigate(url+"/")))
	until(t, ctx, "web up", `document.querySelector('tr[data-service="web"] td.state')?.dataset.s === 'up'`)
	// The token as the page keeps it once asked for (prompt is not driven here).
	must(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('svstatd-token', '`+token+`')`),
		chromedp.Click(chromedp.CSS(`tr[data-service="web"]`))))
	until(t, ctx, "the buttons", `!document.getElementById('actions').hidden`)
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#actions button[data-verb="stop"]`))))
	until(t, ctx, "the outcome of stop", `document.getElementById('lines').textContent.includes('stop web: stopped')`)
	until(t, ctx, "web shown down", `document.querySelector('tr[data-service="web"] td.state').dataset.s === 'down'`)
	if st := controltest.Status(t, dir); st.Up() || st.Want != supervise.WantDown {
		t.Errorf("after stop: %+v", st)
	}
	must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#actions button[data-verb="start"]`))))
	until(t, ctx, "the outcome of start", `document.getElementById('lines').textContent.includes('start web: started (pid ')`)
	until(t, ctx, "web shown up", `document.querySelector('tr[data-service="web"] td.state').dataset.s === 'up'`)
	if p := consoleProblems(); len(p) > 0 {
		t.Errorf("console:\n%s", strings.Join(p, "\n"))
	}
}
