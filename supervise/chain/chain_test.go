package chain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestParseLimitValue(t *testing.T) {
	for _, c := range []struct {
		in     string
		value  uint64
		toHard bool
		ok     bool
	}{
		{"0", 0, false, true},
		{"", 0, false, true}, // daemontools reads no digits as 0
		{"12345", 12345, false, true},
		{"007", 7, false, true},
		{"=", 0, true, true},
		{"18446744073709551615", math.MaxUint64, false, true},
		{"18446744073709551616", math.MaxUint64, false, true}, // daemontools: 0
		{"99999999999999999999999", math.MaxUint64, false, true},
		{"5x", 0, false, false},
		{"-5", 0, false, false},
		{"+5", 0, false, false},
		{" 5", 0, false, false},
		{"==", 0, false, false},
		{"0x10", 0, false, false},
	} {
		v, h, ok := ParseLimitValue(c.in)
		if v != c.value || h != c.toHard || ok != c.ok {
			t.Errorf("%q: %d %v %v, want %d %v %v", c.in, v, h, ok, c.value, c.toHard, c.ok)
		}
	}
}

func TestSoftLimits(t *testing.T) {
	var limits []Limit
	for _, o := range []struct{ letter, value string }{{"m", "1000"}, {"o", "="}, {"t", "5"}} {
		l, err := SoftLimits(o.letter[0], o.value)
		if err != nil {
			t.Fatal(err)
		}
		limits = append(limits, l...)
	}
	want := []Limit{
		{Resource: syscall.RLIMIT_DATA, Value: 1000},
		{Resource: syscall.RLIMIT_STACK, Value: 1000},
		{Resource: rlimitMEMLOCK, Value: 1000},
		{Resource: syscall.RLIMIT_AS, Value: 1000},
		{Resource: syscall.RLIMIT_NOFILE, ToHard: true},
		{Resource: syscall.RLIMIT_CPU, Value: 5},
	}
	if !reflect.DeepEqual(limits, want) {
		t.Fatalf("%+v", limits)
	}
	for letter, resources := range map[byte][]int{
		'a': {syscall.RLIMIT_AS}, 'c': {syscall.RLIMIT_CORE}, 'd': {syscall.RLIMIT_DATA},
		'f': {syscall.RLIMIT_FSIZE}, 'l': {rlimitMEMLOCK}, 'o': {syscall.RLIMIT_NOFILE},
		'p': {rlimitNPROC}, 'r': {rlimitRSS}, 's': {syscall.RLIMIT_STACK}, 't': {syscall.RLIMIT_CPU},
	} {
		limits, err := SoftLimits(letter, "7")
		if err != nil || len(limits) != len(resources) || limits[0].Resource != resources[0] || limits[0].Value != 7 {
			t.Errorf("-%c: %+v %v", letter, limits, err)
		}
	}
	var bad *BadValueError
	if _, err := SoftLimits('d', "5k"); !errors.As(err, &bad) || bad.Letter != 'd' || bad.Value != "5k" {
		t.Errorf("5k: %v", err)
	}
	if limits, err := SoftLimits('x', "5"); limits != nil || err != nil {
		t.Errorf("-x: %v %v", limits, err)
	}
}

// TestLimitSet sets RLIMIT_CORE, which no test depends on, and puts it
// back.
func TestLimitSet(t *testing.T) {
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &orig); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_CORE, &orig)
	if orig.Max == 0 {
		t.Skip("RLIMIT_CORE's hard limit is 0: nothing to set")
	}
	get := func() syscall.Rlimit {
		var r syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		l    Limit
		want uint64
	}{
		{Limit{Resource: syscall.RLIMIT_CORE, Value: 0}, 0},
		{Limit{Resource: syscall.RLIMIT_CORE, ToHard: true}, orig.Max},
		{Limit{Resource: syscall.RLIMIT_CORE, Value: 1}, 1},
		{Limit{Resource: syscall.RLIMIT_CORE, Value: math.MaxUint64}, orig.Max},
	} {
		if err := c.l.Set(); err != nil {
			t.Fatal(err)
		}
		if r := get(); r.Cur != c.want || r.Max != orig.Max {
			t.Errorf("%+v: limits %+v, want soft %d hard %d", c.l, r, c.want, orig.Max)
		}
	}
	err := Limit{Resource: 1000}.Set()
	if err == nil || !strings.HasPrefix(err.Error(), "getrlimit failed: ") {
		t.Errorf("resource 1000: %v", err)
	}
}

func TestTitleScrollsAsByteAtATime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		size := 5 + r.IntN(40)
		chunked, err := NewTitle(make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		byByte := []byte(strings.Repeat(".", size))
		for i := 0; i < 10; i++ {
			p := make([]byte, r.IntN(2*size))
			for j := range p {
				p[j] = 'a' + byte(r.IntN(26))
			}
			if n, err := chunked.Write(p); n != len(p) || err != nil {
				t.Fatal(n, err)
			}
			for _, b := range p { // daemontools' loop, one byte per read
				copy(byByte[3:], byByte[4:])
				byByte[size-1] = b
			}
			if chunked.String() != string(byByte) {
				t.Fatalf("size %d: %q, byte at a time %q", size, chunked, byByte)
			}
		}
	}
	if _, err := NewTitle(make([]byte, 4)); err == nil {
		t.Error("a 4-byte title accepted")
	}
	title, _ := NewTitle([]byte("12345678"))
	if title.String() != "........" {
		t.Errorf("a new title reads %q", title)
	}
	title.Write([]byte("a\nb"))
	if title.String() != ".....a\nb" {
		t.Errorf("%q", title)
	}
}

func TestFghackFilesLayOutDescriptorsAsDaemontools(t *testing.T) {
	const w = 99
	layout := func(inherited ...int) string {
		in := func(fd int) bool { return contains(inherited, fd) }
		var b strings.Builder
		for fd, f := range fghackFiles(w, in) {
			switch f {
			case w:
				fmt.Fprintf(&b, "%d:w ", fd)
			case ^uintptr(0):
				fmt.Fprintf(&b, "%d:- ", fd)
			default:
				fmt.Fprintf(&b, "%d:%d ", fd, f)
			}
		}
		return b.String()
	}
	pipeRange := func(from, to int) string {
		var b strings.Builder
		for fd := from; fd <= to; fd++ {
			fmt.Fprintf(&b, "%d:w ", fd)
		}
		return b.String()
	}
	// The common case: the pipe is 3 (closed in the child) and 4; the
	// copies take 3 and 5..33.
	if got, want := layout(0, 1, 2), "0:0 1:1 2:2 "+pipeRange(3, 33); got != want {
		t.Errorf("0-2 inherited:\n got %s\nwant %s", got, want)
	}
	// An inherited descriptor 10 is skipped by the copies, as dup skips it.
	if got, want := layout(0, 1, 2, 10), "0:0 1:1 2:2 "+pipeRange(3, 9)+"10:10 "+pipeRange(11, 34); got != want {
		t.Errorf("10 inherited:\n got %s\nwant %s", got, want)
	}
	// Standard input closed: the pipe is 0 and 3; the copies take 0, 4...
	if got, want := layout(1, 2), pipeRange(0, 0)+"1:1 2:2 "+pipeRange(3, 32); got != want {
		t.Errorf("stdin closed:\n got %s\nwant %s", got, want)
	}
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestSearchFollowsPathexec(t *testing.T) {
	try := func(file, path string, set bool, results map[string]error) ([]string, error) {
		var tried []string
		err := search(file, path, set, func(p string) error {
			tried = append(tried, p)
			if e, ok := results[p]; ok {
				return e
			}
			return syscall.ENOENT
		})
		return tried, err
	}
	for _, c := range []struct {
		file, path string
		set        bool
		results    map[string]error
		tried      []string
		err        error
	}{
		{"prog", "", false, nil, []string{"/bin/prog", "/usr/bin/prog"}, syscall.ENOENT},
		{"prog", "", true, nil, []string{"./prog"}, syscall.ENOENT},
		{"prog", "a::b:", true, nil, []string{"a/prog", "./prog", "b/prog", "./prog"}, syscall.ENOENT},
		{"./prog", "a", true, nil, []string{"./prog"}, syscall.ENOENT},
		{"prog", "a:b:c", true, map[string]error{"b/prog": nil}, []string{"a/prog", "b/prog"}, nil},
		{"prog", "a:b:c", true, map[string]error{"a/prog": syscall.EACCES}, []string{"a/prog", "b/prog", "c/prog"}, syscall.EACCES},
		{"prog", "a:b:c", true, map[string]error{"a/prog": syscall.EACCES, "b/prog": syscall.EISDIR}, []string{"a/prog", "b/prog", "c/prog"}, syscall.EISDIR},
		{"prog", "a:b:c", true, map[string]error{"a/prog": syscall.EPERM, "c/prog": nil}, []string{"a/prog", "b/prog", "c/prog"}, nil},
		{"prog", "a:b:c", true, map[string]error{"a/prog": syscall.ENOTDIR}, []string{"a/prog"}, syscall.ENOTDIR},
		{"prog", "a:b:c", true, map[string]error{"b/prog": syscall.ENOEXEC}, []string{"a/prog", "b/prog"}, syscall.ENOEXEC},
	} {
		tried, err := try(c.file, c.path, c.set, c.results)
		if !reflect.DeepEqual(tried, c.tried) || err != c.err {
			t.Errorf("%s in %q (set %v): tried %q, error %v; want %q, %v", c.file, c.path, c.set, tried, err, c.tried, c.err)
		}
	}
}

func TestExecFailureWording(t *testing.T) {
	err := Exec([]string{filepath.Join(t.TempDir(), "none")}, nil)
	if !strings.HasPrefix(err.Error(), "unable to run ") || !strings.HasSuffix(err.Error(), "/none: file does not exist") {
		t.Errorf("%v", err)
	}
	err = Exec([]string{"/"}, nil)
	if err.Error() != "unable to run /: access denied" {
		t.Errorf("%v", err)
	}
}

func TestLock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "lk")
	fd, err := Lock(file, true)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm()&^0o600 != 0 {
		t.Fatalf("lock file %v %v", st.Mode(), err)
	}
	flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if flags&syscall.FD_CLOEXEC != 0 {
		t.Error("the lock's descriptor is close-on-exec: the child would not hold it")
	}
	// flock locks belong to the open file: a second open conflicts even in
	// the same process.
	_, err = Lock(file, false)
	if err == nil || err.Error() != "unable to lock "+file+": temporary failure" {
		t.Errorf("second lock: %v", err)
	}
	_, err = Lock(filepath.Join(file, "x"), false)
	if err == nil || err.Error() != "unable to open "+file+"/x: not a directory" {
		t.Errorf("open: %v", err)
	}
}

func TestLookupAccount(t *testing.T) {
	root, err := LookupAccount("root")
	if err != nil || root.UID != 0 || root.GID != 0 {
		t.Fatalf("root: %+v %v", root, err)
	}
	for _, name := range []string{"", "no-such-account-here", "0"} {
		_, err := LookupAccount(name)
		var ue *UnknownAccountError
		if !errors.As(err, &ue) || err.Error() != "unknown account "+name {
			t.Errorf("%q: %v", name, err)
		}
	}
	c := Account{UID: 12, GID: 34}.EnvChanges()
	if got := c.Apply([]string{"UID=1", "X=y"}); !reflect.DeepEqual(got, []string{"GID=34", "X=y", "UID=12"}) {
		t.Errorf("%q", got)
	}
}
