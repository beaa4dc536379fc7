// Command svscanboot starts svscan on the service directory with its
// errors shown in the process list by readproctitle, after stopping any
// supervise left from before — a drop-in replacement for daemontools'
// svscanboot script, meant to be run by init. See doc/svscanboot.8.
package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// bootPath is the PATH daemontools' svscanboot gives to everything it runs.
const bootPath = "/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin"

// title is readproctitle's argument list: 400 dots that svscan's errors
// scroll over, so that `ps` shows the latest of them.
var title = []string{"service", "errors:", strings.Repeat(".", 400)}

func main() {
	// As the script's `exec </dev/null >/dev/null 2>/dev/null`: init's
	// console is nobody's to write on.
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		os.Exit(111)
	}
	for fd := range 3 {
		syscall.Dup3(int(null.Fd()), fd, 0)
	}
	os.Exit(run(os.Args, bootPath, null, exists))
}

// run is svscanboot with its argument vector, the PATH for the programs it
// runs, the file that stands for /dev/null and a test of a path's
// existence. It returns when svscan and readproctitle have both ended,
// with readproctitle's status as the script's pipeline would.
func run(argv []string, path string, null *os.File, exists func(string) bool) int {
	dir := serviceDir(argv, exists)
	// Stop whatever supervise processes a previous svscan left running:
	// the new svscan starts fresh ones.
	if svc, err := lookPath("svc", path); err == nil {
		args := append([]string{"-dx"}, shGlob(dir, "")...)
		args = append(args, shGlob(dir, "log")...)
		cmd := &exec.Cmd{Path: svc, Args: append([]string{"svc"}, args...), Env: setPath(os.Environ(), path),
			Stdin: null, Stdout: null, Stderr: null}
		cmd.Run()
	}
	env := []string{"PATH=" + path} // env - PATH=$PATH
	r, w, err := os.Pipe()
	if err != nil {
		return 111
	}
	var svscan *exec.Cmd
	if p, err := lookPath("svscan", path); err == nil {
		svscan = &exec.Cmd{Path: p, Args: []string{"svscan", dir}, Env: env, Stdin: null, Stdout: w, Stderr: w}
		if svscan.Start() != nil {
			svscan = nil
		}
	}
	w.Close()
	status := 127 // the shell's "not found"
	if p, err := lookPath("readproctitle", path); err == nil {
		rpt := &exec.Cmd{Path: p, Args: append([]string{"readproctitle"}, title...), Env: env, Stdin: r, Stdout: null, Stderr: null}
		err := rpt.Run()
		status = shellStatus(rpt.ProcessState, err)
	}
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
