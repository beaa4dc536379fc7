// Command svscanboot starts svscan on the service directory with its
// errors shown in the process list by readproctitle, after stopping any
// supervise left from before — a drop-in replacement for daemontools'
// svscanboot script, meant to be run by init. See doc/man8/svscanboot.8.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/cli"
)

// bootPath is the PATH daemontools' svscanboot gives to everything it runs.
const bootPath = "/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin"

// title is readproctitle's argument list: 400 dots that svscan's errors
// scroll over, so that `ps` shows the latest of them.
var title = []string{"service", "errors:", strings.Repeat(".", 400)}

func main() {
	self := ""
	if exe, err := os.Executable(); err == nil {
		self = filepath.Dir(exe)
	}
	// Everything that can go wrong before svscan runs is said on the
	// standard error init gave us (systemd's journal, the console): after
	// the redirection below nobody would see it, and a silent exit under
	// Restart=always or respawn is a silent restart loop.
	p, code := prepare(os.Args, self, bootPath, os.Stderr)
	if code != 0 {
		os.Exit(code)
	}
	// As the script's `exec </dev/null >/dev/null 2>/dev/null`: init's
	// console is nobody's to write on.
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		cli.Fatal(os.Stderr, "svscanboot", "unable to open "+os.DevNull, errtext.Of(err))
		os.Exit(cli.ExitTemporary)
	}
	for fd := range 3 {
		syscall.Dup3(int(null.Fd()), fd, 0)
	}
	os.Exit(run(p, null))
}

// plan is what svscanboot will run, found before anything is started.
type plan struct {
	dir  string // the scan directory
	path string // $PATH for everything it runs: its own directory first
	// The programs' full paths; svc is "" when there is none (the
	// clean-up of leftovers is then skipped, with a warning).
	svc, svscan, readproctitle string
	warnings                   []string // also shown in readproctitle's title
}

const usage = "svscanboot: usage: svscanboot [ dir ]\n"

// prepare checks the command line and the scan directory and finds the
// programs to run, in self (the directory of svscanboot's own executable)
// first and then in path, so that an installation of taikit's commands in
// GOPATH/bin or /usr/local/bin runs its own svscan, supervise and
// multilog even where daemontools' are installed too. It writes what is
// wrong to stderr and returns a non-zero exit code when it cannot go on.
func prepare(argv []string, self, path string, stderr io.Writer) (plan, int) {
	if len(argv) > 2 || len(argv) == 2 && (strings.HasPrefix(argv[1], "-") || argv[1] == "") {
		// daemontools' svscanboot has no options: -h and --help are usage
		// errors as any other, and the usage says what it takes.
		fmt.Fprintf(stderr, "svscanboot: fatal: unexpected arguments %q: give at most one scan directory\n%s", argv[1:], usage)
		return plan{}, cli.ExitUsage
	}
	p := plan{dir: serviceDir(argv, exists), path: path}
	if st, err := os.Stat(p.dir); err != nil {
		return p, cli.Fatal(stderr, "svscanboot", "unable to use scan directory "+p.dir, errtext.Of(err))
	} else if !st.IsDir() {
		return p, cli.Fatal(stderr, "svscanboot", "unable to use scan directory "+p.dir, "not a directory")
	}
	if self != "" && !slices.Contains(strings.Split(path, ":"), self) {
		p.path = self + ":" + path
	}
	find := func(prog string, required bool) string {
		found, err := lookPath(prog, p.path)
		switch {
		case err != nil && required:
			cli.Fatal(stderr, "svscanboot", "unable to find "+prog, "not beside svscanboot in "+self+" nor in PATH="+path+"; install taikit's commands together (go install ./cmd/...)")
			return ""
		case err != nil:
			p.warnings = append(p.warnings, "svscanboot: warning: "+prog+" not found in PATH="+p.path+": supervise processes left from before are not stopped")
		case self != "" && filepath.Dir(found) != self:
			// The file itself, not /bin/svscan where /bin is a link to
			// /usr/bin: the name a package manager gives it.
			if real, err := filepath.EvalSymlinks(found); err == nil {
				found = real
			}
			p.warnings = append(p.warnings, "svscanboot: warning: no "+prog+" beside svscanboot in "+self+": running "+found)
		}
		return found
	}
	p.svc = find("svc", false)
	if p.svscan = find("svscan", true); p.svscan == "" {
		return p, cli.ExitTemporary
	}
	if p.readproctitle = find("readproctitle", true); p.readproctitle == "" {
		return p, cli.ExitTemporary
	}
	for _, w := range p.warnings {
		io.WriteString(stderr, w+"\n")
	}
	return p, 0
}

// run carries out the plan with null standing for /dev/null. It returns
// when svscan and readproctitle have both ended, with readproctitle's
// status as the script's pipeline would.
func run(p plan, null *os.File) int {
	// Stop whatever supervise processes a previous svscan left running:
	// the new svscan starts fresh ones.
	if p.svc != "" {
		args := append([]string{"-dx"}, shGlob(p.dir, "")...)
		args = append(args, shGlob(p.dir, "log")...)
		cmd := &exec.Cmd{Path: p.svc, Args: append([]string{"svc"}, args...), Env: setPath(os.Environ(), p.path),
			Stdin: null, Stdout: null, Stderr: null}
		cmd.Run()
	}
	env := []string{"PATH=" + p.path} // env - PATH=$PATH
	r, w, err := os.Pipe()
	if err != nil {
		return cli.ExitTemporary
	}
	// The warnings go first into what readproctitle shows, where whoever
	// looks at `ps` for svscan's errors will see them.
	for _, warning := range p.warnings {
		io.WriteString(w, warning+"\n")
	}
	svscan := &exec.Cmd{Path: p.svscan, Args: []string{"svscan", p.dir}, Env: env, Stdin: null, Stdout: w, Stderr: w}
	if svscan.Start() != nil {
		fmt.Fprintf(w, "svscanboot: fatal: unable to run %s\n", p.svscan)
		svscan = nil
	}
	w.Close()
	rpt := &exec.Cmd{Path: p.readproctitle, Args: append([]string{"readproctitle"}, title...), Env: env, Stdin: r, Stdout: null, Stderr: null}
	err = rpt.Run()
	status := shellStatus(rpt.ProcessState, err)
	r.Close()
	if svscan != nil {
		svscan.Wait()
	}
	return status
}

// serviceDir is the directory operand, or /service as in daemontools —
// unless there is no /service but an /etc/service, as Debian's svscanboot
// uses.
func serviceDir(argv []string, exists func(string) bool) string {
	if len(argv) > 1 {
		return argv[1]
	}
	if !exists("/service") && exists("/etc/service") {
		return "/etc/service"
	}
	return "/service"
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// shGlob expands dir/* (sub "") or dir/*/sub as sh does: sorted, names
// beginning with a dot left out, and the pattern itself when nothing
// matches.
func shGlob(dir, sub string) []string {
	pattern := dir + "/*"
	if sub != "" {
		pattern += "/" + sub
	}
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := dir + "/" + e.Name()
		if sub != "" {
			p += "/" + sub
			if _, err := os.Lstat(p); err != nil {
				continue
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return []string{pattern}
	}
	return out
}

// lookPath finds an executable file named prog in path.
func lookPath(prog, path string) (string, error) {
	for dir := range strings.SplitSeq(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && syscall.Access(p, 1) == nil {
			return p, nil
		}
	}
	return "", errors.New(prog + ": not found")
}

func setPath(env []string, path string) []string {
	out := []string{"PATH=" + path}
	for _, e := range env {
		if !strings.HasPrefix(e, "PATH=") {
			out = append(out, e)
		}
	}
	return out
}

// shellStatus is the status sh reports for a command: its exit code, or
// 128 plus the signal that killed it.
func shellStatus(ps *os.ProcessState, err error) int {
	if ps == nil {
		if err != nil {
			return 126
		}
		return 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
