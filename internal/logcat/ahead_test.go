package logcat

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/taikit/taikit/tai64n"
)

// A directory read with its archives read ahead and searched there (mapped
// and zstd archives, the lines found written out by this goroutine, the
// output written behind) gives what the same bytes give from standard
// input, which is read a block at a time on one goroutine: for a search,
// with a time range (its start inside an archive), -m, -c, --rate, context
// (which searches the blocks itself) and JSON.
func TestDirectoryReadAheadAsStdin(t *testing.T) {
	dir := t.TempDir()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var all bytes.Buffer
	sec := int64(1_800_000_000)
	for f := range 8 {
		var b bytes.Buffer
		for b.Len() < 400<<10 {
			sec++
			state := []string{"done", "done", "failed", "done", "retry"}[sec%5]
			if sec%41 == 0 {
				fmt.Fprintf(&b, "unstamped continuation state=failed %d\n", sec)
				continue
			}
			fmt.Fprintf(&b, "%s worker: job=%d state=%s\n", tai64n.FromUnix(sec, 0, tai64n.Daemontools).Append(nil), sec, state)
		}
		all.Write(b.Bytes())
		data := b.Bytes()
		if f%3 == 1 {
			data = enc.EncodeAll(data, nil) // archives of multilog's z
		}
		name := string(tai64n.FromUnix(sec, 1, tai64n.Daemontools).Append(nil)) + ".s"
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "current"), []byte(tai64n.FromUnix(sec+1, 0, tai64n.Daemontools).String()+" worker: state=failed last\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	all.WriteString(tai64n.FromUnix(sec+1, 0, tai64n.Daemontools).String() + " worker: state=failed last\n")
	mid := time.Unix(1_800_000_000+(sec-1_800_000_000)/2, 0).UTC().Format("2006-01-02 15:04:05")
	late := time.Unix(sec-300, 0).UTC().Format("2006-01-02 15:04:05")
	for _, args := range [][]string{
		{"-E", "state=failed"},
		{"-E", "state=fail(ed|ing)"},
		{"-p", "+* worker: * state=retry*"},
		{"-E", "state=failed", "-S", mid, "-U", late},
		{"-E", "state=failed", "-m", "5000"},
		{"-c", "-E", "state=failed"},
		{"--rate", "--interval", "10m", "-E", "state=failed"},
		{"-A", "1", "-B", "2", "-E", "state=retry"},
		{"-j", "-E", "state=failed"},
		{"-v", "-E", "state=done"},
	} {
		run := func(input string, stdin io.Reader) (string, int) {
			var out, errOut bytes.Buffer
			code := Run(append(append([]string{"-u"}, args...), input), Env{Stdin: stdin, Stdout: &out, Stderr: &errOut, Now: time.Now})
			if errOut.Len() > 0 {
				t.Errorf("%q on %s: %s", args, input, errOut.String())
			}
			return out.String(), code
		}
		got, gotCode := run(dir, nil)
		want, wantCode := run("-", bytes.NewReader(all.Bytes()))
		if got != want || gotCode != wantCode {
			t.Errorf("%q: the directory gives %d bytes (exit %d), standard input %d (exit %d)\n%.300s\n--\n%.300s",
				args, len(got), gotCode, len(want), wantCode, got, want)
		}
		if strings.Count(want, "\n") < 3 && !strings.HasPrefix(args[0], "-c") {
			t.Errorf("%q: only %d lines: the case tests little", args, strings.Count(want, "\n"))
		}
	}
}

// The same comparison over directories and queries drawn at random (a
// fixed seed a case): archives small and large, plain and zstd, one cut by
// a kill (".u"), lines longer than ChunkSize, unstamped lines, stamps out
// of order; searches, ranges, -m, -n, -c.
func TestDirectoryReadAheadRandom(t *testing.T) {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	words := []string{"alpha", "beta", "state=failed", "gamma delta"}
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 14))
		dir := t.TempDir()
		var all bytes.Buffer
		sec := int64(1_800_000_000)
		files := 2 + rng.IntN(6)
		for f := range files {
			var b bytes.Buffer
			size := []int{1 << 10, 200 << 10, 300 << 10, 900 << 10}[rng.IntN(4)]
			for b.Len() < size {
				sec += int64(rng.IntN(3))
				switch r := rng.IntN(100); {
				case r < 3:
					fmt.Fprintf(&b, "unstamped %s\n", words[rng.IntN(len(words))])
				case r < 4 && seed%3 == 0:
					fmt.Fprintf(&b, "%s long %s %s\n", tai64n.FromUnix(sec, 0, tai64n.Daemontools).Append(nil), strings.Repeat("x", ChunkSize+rng.IntN(1000)), words[rng.IntN(len(words))])
				case r < 6 && seed%2 == 0:
					// Stamps out of order: not with -U, where a directory
					// ends at the first line past it (logcat.8).
					fmt.Fprintf(&b, "%s back in time %s\n", tai64n.FromUnix(sec-30, 0, tai64n.Daemontools).Append(nil), words[rng.IntN(len(words))])
				default:
					fmt.Fprintf(&b, "%s job=%d %s\n", tai64n.FromUnix(sec, 0, tai64n.Daemontools).Append(nil), rng.IntN(1000), words[rng.IntN(len(words))])
				}
			}
			data, suffix := b.Bytes(), ".s"
			if f == files-1 && seed%2 == 1 {
				data, suffix = append(data, "cut by a kill"...), ".u"
			}
			all.Write(data)
			if suffix == ".u" {
				all.WriteString("\n") // the line ends with its file
			}
			if rng.IntN(3) == 0 {
				data = enc.EncodeAll(data, nil)
			}
			name := string(tai64n.FromUnix(sec, 1, tai64n.Daemontools).Append(nil)) + suffix
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "current"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		at := func() string {
			s := 1_800_000_000 + rng.Int64N(sec-1_800_000_000+1)
			return time.Unix(s, 0).UTC().Format("2006-01-02 15:04:05")
		}
		word := words[rng.IntN(len(words))]
		for _, args := range [][]string{
			{"-E", word},
			{"-E", word, "-S", at()},
			{"-E", word, "-U", at()},
			{"-E", word, "-U", at()},
			{"-E", word, "-m", fmt.Sprint(1 + rng.IntN(2000))},
			{"-E", word, "-n", "3"},
			{"-c", "-E", word},
			{"-p", "+* * " + word + "*"},
		} {
			if seed%2 == 0 && slices.Contains(args, "-U") {
				continue
			}
			var got, want, errOut bytes.Buffer
			code := Run(append(append([]string{"-u"}, args...), dir), Env{Stdout: &got, Stderr: &errOut, Now: time.Now})
			wantCode := Run(append(append([]string{"-u"}, args...), "-"), Env{Stdin: bytes.NewReader(all.Bytes()), Stdout: &want, Stderr: &errOut, Now: time.Now})
			if got.String() != want.String() || code != wantCode || errOut.Len() > 0 {
				t.Errorf("seed %d, %q: the directory gives %d bytes (exit %d), standard input %d (exit %d); %s",
					seed, args, got.Len(), code, want.Len(), wantCode, errOut.String())
			}
		}
	}
}
