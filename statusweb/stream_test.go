package statusweb_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
	"github.com/taikit/taikit/supervise"
	"github.com/taikit/taikit/tai64n"
)

type event struct{ name, data string }

// stream is an open event stream read by a goroutine of the test.
type stream struct {
	resp   *http.Response
	events chan event
	cancel context.CancelFunc
}

// openStream GETs url and reads its events until the test ends.
func openStream(t *testing.T, url string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	s := &stream{resp: resp, events: make(chan event, 1000), cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 4<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			case line == "" && ev.name != "":
				s.events <- ev
				ev = event{}
			}
		}
	}()
	t.Cleanup(func() { s.close(); <-done })
	return s, 200
}

func (s *stream) close() { s.cancel(); s.resp.Body.Close() }

// next returns the next event named name (others are passed over) whose
// data satisfies cond.
func (s *stream) next(t *testing.T, name, what string, cond func(data string) bool) string {
	t.Helper()
	deadline := time.After(testref.Patience)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended waiting for %s", what)
			}
			if ev.name == name && cond(ev.data) {
				return ev.data
			}
		case <-deadline:
			t.Fatalf("gave up after %v waiting for %s", testref.Patience, what)
		}
	}
}

// TestEventsFollowState: the event stream begins with every service and
// then tells a change of state as supervise writes it, without polling.
func TestEventsFollowState(t *testing.T) {
	f := newFixture(t)
	url := serve(t, &statusweb.Server{Tree: f.tree()})
	s, _ := openStream(t, url+"/api/v1/events")
	first := s.next(t, "services", "the list", func(string) bool { return true })
	var list struct {
		Services []observe.Service
		LogDirs  []struct{ LogDir, Service string } `json:"logdirs"`
	}
	must(t, json.Unmarshal([]byte(first), &list))
	var names []string
	for _, sv := range list.Services {
		names = append(names, sv.Name)
	}
	if strings.Join(names, " ") != "batch idle old web web/log" || len(list.LogDirs) != 1 {
		t.Fatalf("list: %s", first)
	}
	web := filepath.Join(f.scan, "web")
	must(t, supervise.Control(web, "d"))
	s.next(t, "service", "web down", func(d string) bool {
		var sv observe.Service
		json.Unmarshal([]byte(d), &sv)
		return sv.Name == "web" && !sv.Up && sv.Want == "down"
	})
	must(t, supervise.Control(web, "u"))
	s.next(t, "service", "web up and ready again", func(d string) bool {
		var sv observe.Service
		json.Unmarshal([]byte(d), &sv)
		return sv.Name == "web" && sv.Up && sv.Readiness == "ready"
	})
	// A service that appears is told too.
	controlDir := filepath.Join(f.scan, "new")
	must(t, os.MkdirAll(controlDir, 0o755))
	s.next(t, "service", "the new service", func(d string) bool { return strings.Contains(d, `"service":"new"`) })
	must(t, os.Rename(controlDir, filepath.Join(t.TempDir(), "away")))
	s.next(t, "gone", "the new service gone", func(d string) bool { return d == `"new"` })
}

// TestStreamBound: event streams beyond MaxStreams are refused with 503
// until one closes.
func TestStreamBound(t *testing.T) {
	scan := t.TempDir()
	fakeService(t, scan, "web", supervise.Status{When: tai64n.FromTime(time.Now(), tai64n.Daemontools), PID: 5, Want: 'u'})
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}, MaxStreams: 2})
	a, _ := openStream(t, url+"/api/v1/events")
	a.next(t, "services", "the list", func(string) bool { return true })
	must(t, os.MkdirAll(filepath.Join(scan, "web", "log", "main"), 0o755))
	b, _ := openStream(t, url+"/api/v1/logs/web/log/main")
	_ = b
	if _, code := openStream(t, url+"/api/v1/events"); code != http.StatusServiceUnavailable {
		t.Fatalf("third stream: %d, want 503", code)
	}
	if _, code := openStream(t, url+"/api/v1/logs/web/log/main"); code != http.StatusServiceUnavailable {
		t.Fatalf("third stream: %d, want 503", code)
	}
	// Other requests are still served.
	resp, err := http.Get(url + "/metrics")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/metrics: %d", resp.StatusCode)
	}
	a.close()
	testref.WaitFor(t, "a slot to be free again", func() bool {
		s, code := openStream(t, url+"/api/v1/events")
		if code == 200 {
			s.close()
		}
		return code == 200
	})
}

// TestLogTail: a log's last lines, then new ones as they are written,
// across a rotation, none lost or repeated; stamps in the server's zone.
func TestLogTail(t *testing.T) {
	scan := t.TempDir()
	when := tai64n.FromTime(time.Now(), tai64n.Daemontools)
	fakeService(t, scan, "web", supervise.Status{When: when, PID: 5, Want: 'u'})
	main := filepath.Join(scan, "web", "log", "main")
	must(t, os.MkdirAll(main, 0o755))
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	current := filepath.Join(main, "current")
	must(t, os.WriteFile(current, []byte(stamped(t0, "one", "two", "three")), 0o644))
	zone, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no zone Asia/Tokyo: apt-get install tzdata")
	}
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}, Zone: tai64n.Location(zone)})
	s, code := openStream(t, url+"/api/v1/logs/web/log/main?n=2")
	if code != 200 {
		t.Fatalf("%d", code)
	}
	type line struct{ Stamp, Text string }
	var got []line
	collect := func(d string) []line {
		var ls []line
		json.Unmarshal([]byte(d), &ls)
		return ls
	}
	got = collect(s.next(t, "lines", "the last lines", func(string) bool { return true }))
	wantStamp := t0.Add(2 * time.Second).In(zone).Format("2006-01-02 15:04:05.000000000")
	if len(got) != 2 || got[0].Text != "two" || got[1].Text != "three" || got[1].Stamp != wantStamp {
		t.Fatalf("last lines %+v, want two and three, the last stamped %s", got, wantStamp)
	}
	appendTo := func(path, text string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		must(t, err)
		_, err = f.WriteString(text)
		must(t, err)
		must(t, f.Close())
	}
	appendTo(current, stamped(t0.Add(3*time.Second), "four"))
	got = collect(s.next(t, "lines", "four", func(string) bool { return true }))
	if len(got) != 1 || got[0].Text != "four" {
		t.Fatalf("new lines %+v", got)
	}
	// multilog's rotation: current renamed to an archive, a new current.
	archive := filepath.Join(main, tai64n.FromTime(time.Now(), tai64n.Daemontools).String()+".s")
	appendTo(current, stamped(t0.Add(4*time.Second), "five"))
	must(t, os.Rename(current, archive))
	appendTo(current, stamped(t0.Add(5*time.Second), "six"))
	var texts []string
	s.next(t, "lines", "five and six", func(d string) bool {
		for _, l := range collect(d) {
			texts = append(texts, l.Text)
		}
		return len(texts) >= 2
	})
	if fmt.Sprint(texts) != "[five six]" {
		t.Errorf("after the rotation: %q", texts)
	}
}

// TestLogTailOnlyNamed: log directories are looked up by name; nothing
// else is ever tailed.
func TestLogTailOnlyNamed(t *testing.T) {
	root := t.TempDir()
	scan := filepath.Join(root, "service")
	when := tai64n.FromTime(time.Now(), tai64n.Daemontools)
	fakeService(t, scan, "web", supervise.Status{When: when, PID: 5, Want: 'u'})
	must(t, os.MkdirAll(filepath.Join(scan, "web", "log", "main"), 0o755))
	secret := filepath.Join(root, "secret")
	must(t, os.MkdirAll(secret, 0o755))
	must(t, os.WriteFile(filepath.Join(secret, "current"), []byte("password=hunter2\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(scan, "web", "log", "other"), 0o755))
	must(t, os.Symlink(secret, filepath.Join(scan, "web", "log", "linked")))
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})
	for _, p := range []string{
		"/api/v1/logs/web/log/main/../../../../secret",
		"/api/v1/logs/web%2Flog%2Fmain%2F..%2F..%2F..%2F..%2Fsecret",
		"/api/v1/logs/..%2Fsecret",
		"/api/v1/logs/%2e%2e/secret",
		"/api/v1/logs/" + secret,
		"/api/v1/logs/" + strings.ReplaceAll(secret, "/", "%2F"),
		"/api/v1/logs/web/log/other",  // not a log name svstatd was given
		"/api/v1/logs/web/log/linked", // nor this
		"/api/v1/logs/web/log",
		"/api/v1/logs/web/log/main?n=-1",
		"/api/v1/logs/web/log/main?n=1000000",
	} {
		code, body := rawGet(t, url, p)
		if code == 200 || strings.Contains(body, "hunter2") {
			t.Errorf("GET %s: %d\n%s", p, code, body)
		}
	}
}

// TestLogTailNone: n=0 asks for no past lines, only new ones; with a
// recent line in the log it cut the stream off (a slice out of range).
func TestLogTailNone(t *testing.T) {
	scan := t.TempDir()
	fakeService(t, scan, "web", supervise.Status{When: tai64n.FromTime(time.Now(), tai64n.Daemontools), PID: 5, Want: 'u'})
	main := filepath.Join(scan, "web", "log", "main")
	must(t, os.MkdirAll(main, 0o755))
	current := filepath.Join(main, "current")
	must(t, os.WriteFile(current, []byte(stamped(time.Now().Truncate(time.Second), "recent")), 0o644))
	url := serve(t, &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{scan}}})
	s, code := openStream(t, url+"/api/v1/logs/web/log/main?n=0")
	if code != 200 {
		t.Fatalf("%d", code)
	}
	// Nothing says when the stream has its place in the log (n=0 sends no
	// past lines), so new lines are written until one comes through.
	stop := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for {
			f, err := os.OpenFile(current, os.O_WRONLY|os.O_APPEND, 0o644)
			if err == nil {
				f.WriteString(stamped(time.Now().Truncate(time.Second), "new"))
				f.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-wrote }()
	var got []struct{ Text string }
	json.Unmarshal([]byte(s.next(t, "lines", "the new line", func(d string) bool { return strings.Contains(d, `"new"`) })), &got)
	if len(got) == 0 || got[len(got)-1].Text != "new" {
		t.Fatalf("lines %+v", got)
	}
}
