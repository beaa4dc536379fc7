package campaign

import (
	"strings"
	"testing"
)

// TestSvSequence shows that the check the supervise campaign applies to
// its logs rejects lost, doubled, reordered and foreign lines.
func TestSvSequence(t *testing.T) {
	for _, c := range []struct {
		name             string
		log              string
		missing, surplus int
		disordered       bool
	}{
		{"exact", "a 1 a 2 a 3 a 4", 0, 0, false},
		{"lost", "a 1 a 2 a 4", 1, 0, true},
		{"lost at the end", "a 1 a 2 a 3", 1, 0, false},
		{"doubled", "a 1 a 2 a 2 a 3 a 4", 0, 1, true},
		{"replayed", "a 1 a 2 a 3 a 4 a 1", 0, 1, true},
		{"reordered", "a 1 a 3 a 2 a 4", 0, 0, true},
		{"foreign", "a 1 a 2 b 3 a 3 a 4", 0, 1, true},
		{"beyond", "a 1 a 2 a 3 a 4 a 5", 0, 1, true},
	} {
		f := strings.Fields(c.log)
		var lines []string
		for i := 0; i < len(f); i += 2 {
			lines = append(lines, f[i]+" "+f[i+1])
		}
		missing, surplus, disorder := svSequence(lines, "a", 4)
		if missing != c.missing || surplus != c.surplus || (disorder != "") != c.disordered {
			t.Errorf("%s: missing %d surplus %d disorder %q; want %d, %d, disordered %v",
				c.name, missing, surplus, disorder, c.missing, c.surplus, c.disordered)
		}
	}
}
