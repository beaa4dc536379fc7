package logcat

import (
	"strconv"
	"strings"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// ExitGap is logcat's exit code when it read everything it could but data
// was pruned from a log directory before it could be read (a gap), unless
// --allow-gaps. It is neither grep's 1 (nothing selected) nor 2 (trouble),
// nor daemontools' 100 (usage) or 111 (a temporary error, worth retrying):
// the run completed, and a retry cannot bring the data back.
const ExitGap = 3

// gapText words a gap for standard error: the directory, after which line
// it is, what was pruned and how much, and where reading resumed.
//
//	gap in ./main after the line stamped @4000… (in @4000….s): @4000….s (4079 bytes) was pruned before logcat read it: 4079 bytes lost; reading resumed in @4000….s at the line stamped @4000…
func gapText(g *logread.GapError) string {
	var b strings.Builder
	b.WriteString("gap in " + g.Dir)
	if g.Last != "" {
		if g.LastStamp != (tai64n.Label{}) {
			b.WriteString(" after the line stamped " + g.LastStamp.String() + " (in " + fileName(g.Last) + ")")
		} else {
			b.WriteString(" after the end of " + fileName(g.Last))
		}
	}
	var what []string
	if c := g.Cursor; c != nil {
		name := c.Name + " when the cursor was saved"
		if strings.HasPrefix(c.Name, "@") {
			name = "archive " + c.Name
		}
		what = append(what, "the cursor's file ("+name+", "+strconv.FormatInt(c.Read, 10)+
			" bytes of it read) was pruned before logcat read the rest of it")
	}
	if n := len(g.Files); n > 0 {
		var list []string
		for _, f := range g.Files {
			list = append(list, f.Name+" ("+f.SizeText()+")")
		}
		files := strings.Join(list, ", ")
		if n > maxNamed {
			// A follower stopped for long may have missed hundreds.
			files = strconv.Itoa(n) + " files, from " + list[0] + " to " + list[n-1] + ","
		}
		verb := " was pruned before logcat read it"
		if n > 1 {
			verb = " were pruned before logcat read them"
		}
		what = append(what, files+verb)
	}
	if g.Unknown {
		what = append(what, "files written after it may have been pruned before logcat read them (how many is unknown)")
	}
	b.WriteString(": " + strings.Join(what, "; "))
	switch n, complete := g.Lost(); {
	case complete:
		b.WriteString(": " + strconv.FormatInt(n, 10) + " bytes lost")
	case n > 0:
		b.WriteString(": at least " + strconv.FormatInt(n, 10) + " bytes lost")
	default:
		b.WriteString(": an unknown amount lost")
	}
	if g.Next == "" {
		b.WriteString("; nothing after it yet")
		return b.String()
	}
	b.WriteString("; reading resumed in " + g.Next)
	if g.NextStamp != (tai64n.Label{}) {
		b.WriteString(" at the line stamped " + g.NextStamp.String())
	}
	return b.String()
}

// maxNamed is how many files a gap's warning names one by one; of more, it
// names the first and the last.
const maxNamed = 3

// fileName words the name a file had when it was read: an archive's, or
// "current" as "the file that was current" (it has another name now).
func fileName(name string) string {
	if strings.HasPrefix(name, "@") {
		return name
	}
	return "the file that was " + name
}
