package rotate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// genLines is the conformance cases' gen_lines(n): line i is its index,
// zero-padded to 3 digits (4 above 1000), then "x" to 100 bytes with "\n".
func genLines(n int) []byte {
	var b bytes.Buffer
	w := 3
	if n > 1000 {
		w = 4
	}
	for i := 0; i < n; i++ {
		s := fmt.Sprintf("%0*d", w, i)
		b.WriteString(s + strings.Repeat("x", 99-len(s)) + "\n")
	}
	return b.Bytes()
}

// warnings collects warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) add(s string) { w.mu.Lock(); w.list = append(w.list, s); w.mu.Unlock() }
func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}

// testOptions has a fast pause and collected warnings.
func testOptions(w *warnings) Options {
	return Options{Pause: 10 * time.Millisecond, Warn: w.add, Stderr: os.Stderr}
}

type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// listDir returns the directory's entries sorted by name.
func listDir(t *testing.T, dir string) []entry {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	for _, de := range des {
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // a job archived or pruned it meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{name: de.Name(), mode: info.Mode()}
		if info.Mode().IsRegular() {
			e.data, _ = os.ReadFile(filepath.Join(dir, de.Name()))
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// archives returns the archives' contents in name order.
func archives(t *testing.T, dir string) (names []string, data [][]byte) {
	for _, e := range listDir(t, dir) {
		if strings.HasPrefix(e.name, "@") {
			names = append(names, e.name)
			data = append(data, e.data)
		}
	}
	return
}

// modes summarises names and modes: "current 0644, lock 0600".
func modes(es []entry) string {
	var s []string
	for _, e := range es {
		name := e.name
		if strings.HasPrefix(name, "@") && len(name) >= 27 {
			name = "@" + name[25:]
		}
		s = append(s, fmt.Sprintf("%s %04o", name, e.mode.Perm()))
	}
	return strings.Join(s, ", ")
}

func mustOpen(t *testing.T, path string, o Options) *Dir {
	t.Helper()
	d, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func write(t *testing.T, d *Dir, p []byte) {
	t.Helper()
	if n, err := d.Write(p); err != nil || n != len(p) {
		t.Fatalf("Write = %d, %v", n, err)
	}
}
