package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is everything one invocation measured; -json writes it out as is.
type Report struct {
	Machine Machine        `json:"machine"`
	Lines   int            `json:"lines"`
	Runs    int            `json:"runs"`
	Warmup  int            `json:"warmup"`
	TZ      string         `json:"tz"`
	Suites  []*SuiteResult `json:"suites"`
}

// SuiteResult is one suite's outcome.
type SuiteResult struct {
	Name        string            `json:"name"`
	Doc         string            `json:"doc"`
	Corpus      string            `json:"corpus"`
	CorpusBytes int64             `json:"corpus_bytes"`
	Lines       int               `json:"lines"`
	Runs        int               `json:"runs"`
	Warmup      int               `json:"warmup"`
	Stdout      string            `json:"stdout"`
	Contenders  []ContenderResult `json:"contenders"`
	Comparisons []Comparison      `json:"comparisons,omitempty"` // ours against each reference that ran
	Ratios      []RatioResult     `json:"ratios,omitempty"`      // the suite's own ratios, instead
}

// RatioResult is one of a suite's ratios as measured.
type RatioResult struct {
	Name string `json:"name"`
	Of   string `json:"of"`
	To   string `json:"to"`
	// MedianPairRatio is the median over rounds of Of's wall time / To's in the same round:
	// the headline, since the two ran seconds apart.
	MedianPairRatio float64 `json:"median_pair_ratio"`
	RatioOfMedians  float64 `json:"ratio_of_medians"`
	Target          float64 `json:"target,omitempty"`
	Met             bool    `json:"met"`
}

// Contender statuses.
const (
	statusOK      = "ok"
	statusSkipped = "skipped" // not installed: not an error of ours
	statusFailed  = "failed"  // did not build, exited non-zero, or wrote to stderr
)

// ContenderResult is one contender's outcome within a suite.
type ContenderResult struct {
	Name    string   `json:"name"`
	Ours    bool     `json:"ours"`
	Argv    []string `json:"argv,omitempty"`
	Command string   `json:"command,omitempty"` // the shell equivalent of one run, for humans
	Status  string   `json:"status"`
	Note    string   `json:"note,omitempty"`    // why it was skipped or failed
	Samples []Sample `json:"samples,omitempty"` // counted runs, in round order
	Summary *Summary `json:"summary,omitempty"`
}

// finish computes the summaries, and the suite's ratios or else the comparisons of ours
// against each reference.
func (r *SuiteResult) finish(ratios []Ratio) {
	var ours *ContenderResult
	for i := range r.Contenders {
		c := &r.Contenders[i]
		if c.Status == statusOK && len(c.Samples) > 0 {
			sum := summarize(c.Samples, r.CorpusBytes)
			c.Summary = &sum
			if c.Ours {
				ours = c
			}
		}
	}
	if len(ratios) > 0 {
		byName := map[string]*ContenderResult{}
		for i := range r.Contenders {
			byName[r.Contenders[i].Name] = &r.Contenders[i]
		}
		for _, q := range ratios {
			of, to := byName[q.Of], byName[q.To]
			if of == nil || to == nil || of.Summary == nil || to.Summary == nil {
				continue
			}
			// compare gives to/of; this ratio is of/to.
			c := compare(q.To, of.Samples, to.Samples)
			res := RatioResult{Name: q.Name, Of: q.Of, To: q.To, Target: q.Target}
			if c.MedianPairRatio > 0 {
				res.MedianPairRatio = 1 / c.MedianPairRatio
			}
			if c.RatioOfMedians > 0 {
				res.RatioOfMedians = 1 / c.RatioOfMedians
			}
			res.Met = q.Target == 0 || res.MedianPairRatio <= q.Target
			r.Ratios = append(r.Ratios, res)
		}
		return
	}
	if ours == nil {
		return
	}
	for _, c := range r.Contenders {
		if !c.Ours && c.Summary != nil {
			r.Comparisons = append(r.Comparisons, compare(c.Name, ours.Samples, c.Samples))
		}
	}
}

func writeJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "<" and ">" in command lines readable
	return enc.Encode(r)
}

func printMachine(w io.Writer, m Machine) {
	cpu := ""
	if m.CPUModel != "" {
		cpu = " (" + m.CPUModel + ")"
	}
	fmt.Fprintf(w, "machine: %d CPUs%s, %s/%s, kernel %s, %s\n", m.CPUs, cpu, m.OS, m.Arch, m.Kernel, m.GoVersion)
}

// printSuite writes r as a plain-text table that reads well in a terminal and pastes into a
// README code block: numbers right-aligned, one contender per row, then ratios, commands, notes.
func printSuite(w io.Writer, r *SuiteResult) {
	fmt.Fprintf(w, "\n== %s: %s\n", r.Name, r.Doc)
	fmt.Fprintf(w, "corpus %s: %d lines, %.1f MB; stdout to %s\n", r.Corpus, r.Lines, float64(r.CorpusBytes)/1e6, r.Stdout)
	fmt.Fprintf(w, "%d warm-up + %d counted runs per contender, alternating\n\n", r.Warmup, r.Runs)

	width := len("contender")
	for _, c := range r.Contenders {
		width = max(width, len(c.Name))
	}
	fmt.Fprintf(w, "%-*s %10s %10s %10s %8s %10s %8s\n", width, "contender",
		"median ms", "min ms", "max ms", "MB/s", "CPU ms", "RSS MiB")
	kinds := map[string]bool{}
	for _, c := range r.Contenders {
		if s := c.Summary; s != nil {
			rss := s.RSSKind + strconv.FormatFloat(float64(s.MaxRSS)/(1<<20), 'f', 1, 64)
			kinds[s.RSSKind] = true
			// Padding counts bytes, and "≤" takes three; pad by runes instead.
			fmt.Fprintf(w, "%-*s %10.1f %10.1f %10.1f %8.1f %10.1f %s%s\n", width, c.Name,
				ms(s.MedianWall), ms(s.MinWall), ms(s.MaxWall), s.MBps, ms(s.MedianCPU),
				strings.Repeat(" ", max(0, 8-utf8.RuneCountInString(rss))), rss)
			continue
		}
		what := map[string]string{statusSkipped: "skipped", statusFailed: "FAILED"}[c.Status]
		fmt.Fprintf(w, "%-*s %10s  (see notes)\n", width, c.Name, what)
	}

	if kinds[rssSampled] {
		fmt.Fprintf(w, "~ RSS polled from /proc/PID/status (VmHWM) every %v; ru_maxrss cannot go below the harness's own peak\n", hwmInterval)
	}
	if kinds[rssAtMost] {
		fmt.Fprintf(w, "≤ RSS at most this (ru_maxrss includes the harness's own peak; the run ended before a poll)\n")
	}

	if len(r.Comparisons) > 0 {
		ours := ""
		for _, c := range r.Contenders {
			if c.Ours {
				ours = c.Name
			}
		}
		fmt.Fprintf(w, "\nratio = their median / our median (>1: %s is faster); per-round = median of the rounds' ratios\n", ours)
		labelWidth := 0
		for _, cmp := range r.Comparisons {
			labelWidth = max(labelWidth, len(ours+" vs "+cmp.Reference+":"))
		}
		for _, cmp := range r.Comparisons {
			fmt.Fprintf(w, "%-*s %6.2f× %s  (per-round %.2f×)\n", labelWidth, ours+" vs "+cmp.Reference+":",
				cmp.RatioOfMedians, fasterOrSlower(cmp.RatioOfMedians), cmp.MedianPairRatio)
		}
	}

	if len(r.Ratios) > 0 {
		fmt.Fprintf(w, "\nratio = median over rounds of (one wall time / the other, same round)\n")
		labelWidth := 0
		for _, q := range r.Ratios {
			labelWidth = max(labelWidth, len(q.Name)+1)
		}
		for _, q := range r.Ratios {
			verdict := ""
			if q.Target > 0 {
				verdict = fmt.Sprintf("  target ≤ %.2f×: %s", q.Target, map[bool]string{true: "met", false: "MISSED"}[q.Met])
			}
			fmt.Fprintf(w, "%-*s %6.2f×  (ratio of medians %.2f×)%s\n", labelWidth, q.Name+":", q.MedianPairRatio, q.RatioOfMedians, verdict)
		}
	}

	fmt.Fprintf(w, "\ncommands (stdin opened fresh on the corpus, cwd a fresh empty directory, every run):\n")
	for _, c := range r.Contenders {
		if c.Command != "" {
			fmt.Fprintf(w, "  %-*s %s\n", width, c.Name, c.Command)
		}
	}
	notes := false
	for _, c := range r.Contenders {
		if c.Note == "" {
			continue
		}
		if !notes {
			fmt.Fprintf(w, "notes:\n")
			notes = true
		}
		// Build errors and stderr span lines; indent them under the contender's name.
		note := strings.ReplaceAll(c.Note, "\n", "\n  "+strings.Repeat(" ", width+1))
		fmt.Fprintf(w, "  %-*s %s\n", width, c.Name, note)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fasterOrSlower(ratio float64) string {
	if ratio >= 1 {
		return "faster"
	}
	return "SLOWER"
}

// commandLine renders one run of argv as the equivalent shell command.
func commandLine(tz string, s *Suite, argv []string, corpus string, stdin StdinMode) string {
	// Mirror harness.env: -tz first, then the suite's changes; a bare KEY unsets.
	set := map[string]string{}
	var order, unset []string
	apply := func(kv string) {
		k, v, ok := strings.Cut(kv, "=")
		if _, seen := set[k]; !seen {
			order = append(order, k)
		}
		if ok {
			set[k] = v
			unset = slices.DeleteFunc(unset, func(u string) bool { return u == k })
		} else {
			delete(set, k)
			unset = append(unset, k)
		}
	}
	if tz != "" {
		apply("TZ=" + tz)
	}
	for _, kv := range s.Env {
		apply(kv)
	}
	var parts []string
	if stdin == StdinPipe {
		parts = append(parts, "cat", shellQuote(corpus), "|")
	}
	if len(unset) > 0 {
		parts = append(parts, "env")
		for _, k := range unset {
			parts = append(parts, "-u", shellQuote(k))
		}
	}
	for _, k := range order {
		if v, ok := set[k]; ok {
			parts = append(parts, shellQuote(k+"="+v))
		}
	}
	for _, a := range argv {
		parts = append(parts, shellQuote(a))
	}
	if stdin != StdinPipe {
		parts = append(parts, "<", shellQuote(corpus))
	}
	if s.Stdout == StdoutPipe {
		parts = append(parts, "| (drained by the harness)")
	} else {
		parts = append(parts, ">", "/dev/null")
	}
	return strings.Join(parts, " ")
}

// shellQuote leaves plain words alone and single-quotes anything else.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
