package chain

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// DefaultPath is where a program is searched when $PATH is not set, as in
// daemontools.
const DefaultPath = "/bin:/usr/bin"

// Exec replaces this process with the program argv[0], given argv as its
// arguments and env as its environment. It returns only when that fails,
// with an *errtext.Error worded "unable to run argv[0]".
//
// A name containing '/' is run as it is; any other name is tried in each
// directory of this process's $PATH (not env's: daemontools searches the
// path it was started with), an empty entry meaning the current
// directory. A directory where the program does not exist is skipped; one
// where it exists but cannot be run (access denied, permission denied, a
// directory) is remembered and the search goes on; any other error stops
// the search. The error reported is the remembered one if any, else
// "file does not exist".
func Exec(argv, env []string) error {
	path, set := syscall.Getenv("PATH")
	err := search(argv[0], path, set, func(path string) error {
		return syscall.Exec(path, argv, env)
	})
	return &errtext.Error{Op: "unable to run", Path: argv[0], Err: err}
}

// search tries run on each place file may be, in the order and with the
// error rules of Exec, and returns the error to report; a nil from run
// (a program started) ends the search with nil.
// path is the value of $PATH, set says whether there is one.
func search(file, path string, set bool, run func(path string) error) error {
	if strings.Contains(file, "/") {
		return run(file)
	}
	if !set {
		path = DefaultPath
	}
	var remembered error
	for {
		dir, rest, more := strings.Cut(path, ":")
		if dir == "" {
			dir = "."
		}
		err := run(dir + "/" + file)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.ENOENT) {
			remembered = err
			if !errors.Is(err, syscall.EACCES) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EISDIR) {
				return err
			}
		}
		if !more {
			if remembered != nil {
				return remembered
			}
			return err
		}
		path = rest
	}
}

// Environ returns the environment this process was started with, exactly:
// in order, with any repeated names, which os.Environ drops. daemontools'
// programs pass their environment on untouched but for their own changes,
// so ours read it from /proc/self/environ, falling back to os.Environ when
// /proc is not mounted.
func Environ() []string {
	raw, err := readProcFile("/proc/self/environ")
	if err != nil {
		return os.Environ()
	}
	raw = bytes.TrimSuffix(raw, []byte{0})
	if len(raw) == 0 {
		return nil
	}
	return strings.Split(string(raw), "\x00")
}

// readProcFile reads a whole file with plain system calls. Opening it
// through package os would start the Go runtime's poller, whose two
// descriptors would take the numbers daemontools' programs give the files
// they pass on (setlock's lock is descriptor 3, as in daemontools).
func readProcFile(name string) ([]byte, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var out []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// EnvChanges is a list of changes to an environment, applied in the order
// they were made, as daemontools' pathexec_env collects them.
type EnvChanges struct {
	entries []string // "NAME=value" to set, "NAME" to remove
}

// Set records that name is to be value.
func (c *EnvChanges) Set(name, value string) {
	c.entries = append(c.entries, name+"="+value)
}

// Unset records that name is to be removed.
func (c *EnvChanges) Unset(name string) {
	c.entries = append(c.entries, name)
}

// Len returns the number of changes recorded.
func (c *EnvChanges) Len() int { return len(c.entries) }

// Apply returns environ with the changes made, leaving environ itself
// alone. It merges as daemontools does, so that a child sees the same
// environment in the same order: for each change, the first variable of
// that name is removed, the last variable taking its place, and a setting
// is appended at the end. A change's name ends at its first '=': setting
// "A=B" to "x" (envdir's file "A=B" holding x) sets A to "B=x", and
// removing "A=B" (the file being empty) sets A to "B".
func (c *EnvChanges) Apply(environ []string) []string {
	env := append(make([]string, 0, len(environ)+len(c.entries)), environ...)
	for _, e := range c.entries {
		name, _, isSetting := strings.Cut(e, "=")
		for i, v := range env {
			if n, _, ok := strings.Cut(v, "="); ok && n == name {
				last := len(env) - 1
				env[i] = env[last]
				env = env[:last]
				break
			}
		}
		if isSetting {
			env = append(env, e)
		}
	}
	return env
}
