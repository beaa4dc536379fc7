package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Prepare creates the case's pre entries in dir (the run's working
// directory, normally fresh and empty), in order, as cases.py does:
// missing parent directories are made, then each entry gets its mode.
func (c Case) Prepare(dir string) error {
	for _, p := range c.Pre {
		path := filepath.Join(dir, p.Path)
		if p.Dir {
			if err := os.MkdirAll(path, 0o777); err != nil {
				return err
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
				return err
			}
			if err := os.WriteFile(path, p.Content, 0o666); err != nil {
				return err
			}
		}
		if err := os.Chmod(path, p.Mode); err != nil {
			return err
		}
	}
	return nil
}

// ExecTimeout bounds one Exec.
const ExecTimeout = 60 * time.Second

// Exec runs program (in place of c.Argv[0]) with the case's arguments as
// cases.py ran the real one: working directory dir, standard input a
// regular file holding Stdin() (made outside dir), the environment plus the
// case's settings, and the case's umask (set by /bin/sh, which then execs
// the program). Call Prepare first. The error is for failures to run at
// all; exit codes and signals are in the Result.
func (c Case) Exec(program, dir string) (Result, error) {
	in, err := os.CreateTemp("", "conformance-"+c.ID+"-stdin-*")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(in.Name())
	defer in.Close()
	if _, err := in.Write(c.stdin); err != nil {
		return Result{}, err
	}
	if _, err := in.Seek(0, 0); err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), ExecTimeout)
	defer cancel()
	script := fmt.Sprintf(`umask %04o && exec "$0" "$@"`, c.Umask)
	cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, program}, c.Args()...)...)
	cmd.Dir = dir
	cmd.Env = environ(c.Env)
	cmd.Stdin = in // an *os.File: the program reads the regular file itself
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	r := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: %s did not finish within %v", c.ID, program, ExecTimeout)
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.Exit = -int(ws.Signal())
		} else {
			r.Exit = ee.ExitCode()
		}
	case err != nil:
		return r, err
	}
	return r, nil
}

// environ returns this process's environment with settings ("NAME=value")
// replacing or adding variables.
func environ(settings []string) []string {
	env := os.Environ()
	for _, s := range settings {
		name, _, _ := strings.Cut(s, "=")
		kept := env[:0:0]
		for _, e := range env {
			if n, _, _ := strings.Cut(e, "="); n != name {
				kept = append(kept, e)
			}
		}
		env = append(kept, s)
	}
	return env
}
