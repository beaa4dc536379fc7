package conformance

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CheckOpen checks the contract on current: it has not reached a cut.
func CheckOpen(f []byte, s int) error {
	if len(f) >= s {
		return fmt.Errorf("current has %d bytes, s=%d: it should have been closed", len(f), s)
	}
	if from := s - CutMargin - 1; from < len(f) && bytes.IndexByte(f[from:len(f)-1], '\n') >= 0 {
		return fmt.Errorf("current (%d bytes) has a line end at or after %d bytes before its end: it should have been closed there", len(f), s-CutMargin)
	}
	return nil
}

// Contract says what CompareByContract may check of a case whose archive
// sizes daemontools' 512/1024-byte chunking decided (spec §8.5), which
// taikit's cut rule does not reproduce (§18.2).
type Contract struct {
	// CountFromN: the case's number of archives follows from n (and the
	// junk names that count against it) whatever the cuts, so the
	// directory must have as many.
	CountFromN bool
	// Archive, when set, gives what the archive of the k-th file closed
	// (from 0) must hold: the processor's output. nil: the file itself.
	Archive func(k int, file []byte) []byte
}

// CompareByContract compares the directory at path, written with s and num (n) from
// input, with the case's listing exp by contract:
//
//	(a) the same entries other than archives (current, lock, state, junk
//	    names), with the listed modes; those but current with the listed
//	    contents; current with what taikit's rule leaves;
//	(b) as many archives as the rule and n leave, and as many as the case
//	    lists when n decides it, with the listed modes and suffixes;
//	(c) without a processor, every archive cut by the size contract and
//	    current short of a cut;
//	(d) the kept data (archives in name order, then current) the end of
//	    the input, and the whole input when nothing was pruned;
//	(e) every archive the file the rule closed there (through the
//	    processor when there is one).
func CompareByContract(in []byte, path string, s, num int, exp DirExpect, how Contract) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	files, cur := Cuts(in, s)

	des, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var names, archiveNames, otherNames []string
	junk := 0 // names counted against n that are not archives
	for _, de := range des {
		n := de.Name()
		names = append(names, n)
		if IsArchiveName(n) {
			archiveNames = append(archiveNames, n)
		} else {
			otherNames = append(otherNames, n)
			if len(n) >= 25 && n[0] == '@' {
				junk++
			}
		}
	}
	shown := MaskNames(names)
	info := func(n string) (fs.FileMode, []byte) {
		st, err := os.Lstat(filepath.Join(path, n))
		if err != nil {
			bad("%v", err)
			return 0, nil
		}
		data, _ := os.ReadFile(filepath.Join(path, n))
		return st.Mode(), data
	}
	withContent := func(e FileExpect, content []byte) FileExpect {
		e.HasContent, e.Content, e.Size = true, Mask(content, e.DateTimes), int64(len(content))
		return e
	}

	// (a)
	var wantArchives []FileExpect
	var wantOthers []string
	for _, e := range exp.Entries {
		if strings.HasPrefix(e.Name, "@<TAI64N#") {
			wantArchives = append(wantArchives, e)
		} else {
			wantOthers = append(wantOthers, e.Name)
		}
	}
	if !slices.Equal(otherNames, wantOthers) {
		bad("entries other than archives %q, want %q", otherNames, wantOthers)
	}
	for _, n := range otherNames {
		e, ok := exp.Entry(n)
		if !ok {
			continue
		}
		if n == "current" {
			e = withContent(e, cur)
		}
		m, data := info(n)
		if err := CheckFile(e, n, m, data); err != nil {
			bad("%v", err)
		}
	}

	// (b)
	if len(wantArchives) == 0 {
		return fmt.Errorf("the case lists no archive to take modes from")
	}
	keep := min(len(files), max(0, num-1-junk))
	first := len(files) - keep
	if how.CountFromN && len(archiveNames) != len(wantArchives) {
		bad("%d archives, want %d as daemontools left (n%d keeps n−1, junk counted)", len(archiveNames), len(wantArchives), num)
	}
	if len(archiveNames) != keep {
		bad("%d archives %q; the rule closed %d files and n%d keeps %d", len(archiveNames), archiveNames, len(files), num, keep)
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	var kept []byte
	for j, n := range archiveNames {
		k := first + j
		want := files[k]
		if how.Archive != nil {
			want = how.Archive(k, files[k])
		}
		base := wantArchives[min(j, len(wantArchives)-1)]
		e := withContent(base, want)
		e.Name = fmt.Sprintf("@<TAI64N#%d>%s", j+1, base.Name[len(base.Name)-2:])
		m, data := info(n)
		// (e)
		if err := CheckFile(e, shown[slices.Index(names, n)], m, data); err != nil {
			bad("archive %s (file %d of the rule): %v", n, k, err)
		}
		if how.Archive == nil {
			// (c)
			if err := CheckCut(data, s); err != nil {
				bad("archive %s: %v", n, err)
			}
			kept = append(kept, data...)
		}
	}

	// (c), (d)
	_, current := info("current")
	if how.Archive == nil {
		if err := CheckOpen(current, s); err != nil {
			bad("%v", err)
		}
		kept = append(kept, current...)
		if !bytes.HasSuffix(in, kept) {
			bad("archives and current (%d bytes) are not the end of the input", len(kept))
		}
		if first == 0 && !bytes.Equal(kept, in) {
			bad("nothing was pruned, but archives and current (%d bytes) are not the input (%d bytes)", len(kept), len(in))
		}
	} else if !bytes.HasSuffix(in, current) {
		bad("current (%d bytes) is not the end of the input", len(current))
	}
	if errs != nil {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
