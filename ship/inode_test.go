package ship

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/taikit/taikit/internal/servertest"
)

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// The state file's cursor holds the inode number of "current", but never
// trusts it alone. Here "current" is shipped to its end, archived, the
// archive pruned, and a new "current" made that gets the freed inode
// number back: a cursor that trusted the inode would resume in the new
// file at the old one's offset and skip its first lines. The new file is
// refused by its leading bytes, the loss of the old one's place is said,
// and every line of the new one is shipped, none twice.
func TestInodeReusedNothingSkippedOrRepeated(t *testing.T) {
	srv := servertest.Redis(t)
	root := t.TempDir()
	dir := filepath.Join(root, "log")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(t.TempDir(), "state")
	url := "redis://" + srv.Addr + "/logs"
	lines := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintln(&b, lineText(i))
		}
		return b.String()
	}
	current := filepath.Join(dir, "current")
	writeFile(t, current, lines(0, 100))
	if s := shipOnce(t, url, dir, stateFile); s.Shipped != 100 {
		t.Fatalf("shipped %d lines, want 100", s.Shipped)
	}
	ino := inodeOf(t, current)

	// Rotated, then pruned by retention (the archive was shipped whole).
	archive := filepath.Join(dir, "@4000000069327f1b0a3c1b2c.s")
	if err := os.Rename(current, archive); err != nil {
		t.Fatal(err)
	}
	// The archive is pruned and its inode number given to the next
	// current. Whether a file system hands a freed number back at once is
	// its own affair (ext4 often does, tmpfs never), so the test makes it
	// so: a second name keeps the inode while the archive's goes, and the
	// file is then emptied and rewritten under the name current — for the
	// cursor exactly a new file with the old inode number.
	reused := filepath.Join(root, "spare")
	if err := os.Link(archive, reused); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(archive); err != nil {
		t.Fatal(err)
	}
	writeFile(t, reused, lines(100, 250))
	if err := os.Rename(reused, current); err != nil {
		t.Fatal(err)
	}
	if inodeOf(t, current) != ino {
		t.Fatal("the new current lost the inode number")
	}

	if s := shipOnce(t, url, dir, stateFile); s.Shipped != 150 {
		t.Fatalf("shipped %d lines of the new current (inode %d again), want its 150", s.Shipped, ino)
	}
	var got []string
	for _, m := range redisEntries(t, srv.Addr, "logs") {
		got = append(got, m.Values["line"].(string))
	}
	checkLines(t, got, 250)
}
