package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/testref"
)

// openPTY opens a pseudo-terminal pair, the terminal side cols wide and
// without output processing (no "\r" added before "\n").
func openPTY(t *testing.T, cols uint16) (master, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("the pseudo-terminal's number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// onTerminal runs logcat (this test binary) with its standard output on a
// pseudo-terminal cols wide, and returns what it wrote there.
func onTerminal(t *testing.T, cols uint16, env []string, args ...string) string {
	t.Helper()
	m, s := openPTY(t, cols)
	cmd := exec.Command(testref.Self(t), args...)
	cmd.Env = testref.Environ(append([]string{testref.BeCommand}, env...)...)
	cmd.Stdout = s
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.Close() // the child's copy is the last: its exit ends the reading
	read := make(chan []byte, 1)
	go func() {
		var out []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := m.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				// EIO once no one holds the terminal side open.
				read <- out
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("logcat %q on a terminal: %v, %s", args, err, stderr.String())
	}
	return string(testref.Receive(t, "the terminal's output", read))
}

// onPipe runs logcat (this test binary) with its standard output a pipe.
func onPipe(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testref.Self(t), args...)
	cmd.Env = testref.Environ(append([]string{testref.BeCommand}, env...)...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("logcat %q: %v, %s", args, err, ee.Stderr)
	}
	return string(out)
}

// Colour on a terminal: the stamp green, what -E matches bold red, as grep
// colours line numbers and matches. Never in a pipe, nor with NO_COLOR,
// TERM=dumb or --color=never; always with --color=always.
func TestColorOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	s1, s2 := lbl(1_800_000_000, 0), lbl(1_800_000_001, 0)
	if err := os.WriteFile(filepath.Join(dir, "current"), []byte(s1+" GET /orders 200\n"+s2+" GET /orders 500 in 500 ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-E", "500", dir}
	plain := s2 + " GET /orders 500 in 500 ms\n"
	colored := "\x1b[32m" + s2 + "\x1b[m GET /orders \x1b[01;31m500\x1b[m in \x1b[01;31m500\x1b[m ms\n"
	clean := []string{"NO_COLOR", "TERM=xterm"}
	cases := []struct {
		name     string
		terminal bool
		env      []string
		options  []string
		want     string
	}{
		{"a terminal", true, clean, nil, colored},
		{"a terminal, --color=auto", true, clean, []string{"--color=auto"}, colored},
		{"a terminal, NO_COLOR=1", true, []string{"NO_COLOR=1", "TERM=xterm"}, nil, plain},
		{"a terminal, NO_COLOR empty", true, []string{"NO_COLOR=", "TERM=xterm"}, nil, colored},
		{"a dumb terminal", true, []string{"NO_COLOR", "TERM=dumb"}, nil, plain},
		{"a terminal, --color=never", true, clean, []string{"--color=never"}, plain},
		{"a terminal, NO_COLOR=1 --color=always", true, []string{"NO_COLOR=1"}, []string{"--color", "always"}, colored},
		{"a pipe", false, clean, nil, plain},
		{"a pipe, --color=auto", false, clean, []string{"--color=auto"}, plain},
		{"a pipe, --color=always", false, clean, []string{"--color=always"}, colored},
		{"a terminal, -j", true, clean, []string{"-j", "-u"}, `{"time":"2027-01-15T08:00:01.000000000Z","tai64n":"` + s2 + `","line":"GET /orders 500 in 500 ms"}` + "\n"},
		{"a terminal, -c", true, clean, []string{"-c"}, "1\n"},
	}
	for _, c := range cases {
		a := append(append([]string{}, c.options...), args...)
		var got string
		if c.terminal {
			got = onTerminal(t, 80, c.env, a...)
		} else {
			got = onPipe(t, c.env, a...)
		}
		if got != c.want {
			t.Errorf("%s: logcat %q wrote %q, want %q", c.name, a, got, c.want)
		}
	}
}

// A labelled merge with context on a terminal: the label as grep colours a
// file name, its mark and "--" as separators, the time (-t) as the stamp;
// matches only in selected lines.
func TestColorLabelsAndContext(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, name := range []string{"web", "db"} {
		d := filepath.Join(root, name, "log", "main")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for j := range 4 {
			fmt.Fprintf(&b, "%s %s %d\n", lbl(int64(1_800_000_000+10*j+i), 0), []string{"ok", "fail", "ok", "ok"}[j], j)
		}
		if err := os.WriteFile(filepath.Join(d, "current"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	got := onTerminal(t, 80, []string{"NO_COLOR", "TERM=xterm", "TZ=UTC"}, append([]string{"-t", "-A", "1", "-E", "fail"}, dirs...)...)
	line := func(sec int64, name, mark, pad, text string) string {
		return "\x1b[32m2027-01-15 08:00:" + fmt.Sprintf("%02d", sec) + ".000000000\x1b[m \x1b[35m" + name + "\x1b[m\x1b[36m" + mark + "\x1b[m" + pad + text + "\n"
	}
	hit := "\x1b[01;31mfail\x1b[m"
	want := line(10, "web", ":", " ", hit+" 1") + line(11, "db", ":", "  ", hit+" 1") + line(20, "web", "-", " ", "ok 2")
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if plain := onPipe(t, []string{"NO_COLOR", "TERM=xterm", "TZ=UTC"}, append([]string{"-t", "-A", "1", "-E", "fail"}, dirs...)...); strings.Contains(plain, "\x1b") {
		t.Errorf("colour in a pipe: %q", plain)
	}
}

// --rate draws its table in the terminal's width, or COLUMNS', or 80: the
// row of the largest count is exactly that wide.
func TestRateWidth(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "%s request %d\n", lbl(1_800_000_000+int64(i*i), 0), i)
	}
	if err := os.WriteFile(filepath.Join(dir, "current"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	widest := func(out string) int {
		w := 0
		for l := range strings.Lines(out) {
			w = max(w, len(strings.TrimSuffix(l, "\n")))
		}
		return w
	}
	args := []string{"-u", "--interval", "5m", dir}
	cases := []struct {
		name     string
		terminal bool
		env      []string
		want     int
	}{
		{"a terminal 60 wide", true, []string{"NO_COLOR=1", "COLUMNS"}, 60},
		{"COLUMNS=100 on a terminal 60 wide", true, []string{"NO_COLOR=1", "COLUMNS=100"}, 100},
		{"a pipe", false, []string{"COLUMNS"}, 80},
		{"COLUMNS=50 in a pipe", false, []string{"COLUMNS=50"}, 50},
	}
	for _, c := range cases {
		var out string
		if c.terminal {
			out = onTerminal(t, 60, c.env, args...)
		} else {
			out = onPipe(t, c.env, args...)
		}
		if got := widest(out); got != c.want || strings.Count(out, "\n") < 5 {
			t.Errorf("%s: widest row %d, want %d:\n%s", c.name, got, c.want, out)
		}
	}
}
