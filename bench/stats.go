package main

import (
	"slices"
	"time"
)

// Summary condenses one contender's counted runs.
type Summary struct {
	Runs       int           `json:"runs"`
	MedianWall time.Duration `json:"median_wall_ns"`
	MinWall    time.Duration `json:"min_wall_ns"`
	MaxWall    time.Duration `json:"max_wall_ns"`
	MBps       float64       `json:"mb_per_s"` // corpus bytes / median wall, in 10^6 bytes per second
	MedianCPU  time.Duration `json:"median_cpu_ns"`
	MaxRSS     int64         `json:"max_rss_bytes"`
	RSSKind    string        `json:"rss_kind,omitempty"` // of the run that set MaxRSS
}

// Comparison sets ours against one reference. Both ratios are reference time / our time, so
// above 1 means ours is faster.
type Comparison struct {
	Reference string `json:"reference"`
	// RatioOfMedians compares the two medians: the headline number.
	RatioOfMedians float64 `json:"ratio_of_medians"`
	// MedianPairRatio is the median over rounds of the ratio within each round. Runs in one
	// round are seconds apart, so a noisy neighbour tends to hit both; when the two numbers
	// disagree much, the machine was too noisy to trust either.
	MedianPairRatio float64 `json:"median_pair_ratio"`
}

// median returns the middle value of xs (the mean of the two middle ones for an even count),
// or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func medianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

// summarize condenses samples, which must not be empty, for a corpus of corpusBytes.
func summarize(samples []Sample, corpusBytes int64) Summary {
	walls := make([]time.Duration, len(samples))
	cpus := make([]time.Duration, len(samples))
	var rss int64
	var rssKind string
	for i, s := range samples {
		walls[i], cpus[i] = s.Wall, s.CPU()
		if i == 0 || s.MaxRSS > rss {
			rss, rssKind = s.MaxRSS, s.RSSKind
		}
	}
	med := medianDuration(walls)
	sum := Summary{
		Runs:       len(samples),
		MedianWall: med,
		MinWall:    slices.Min(walls),
		MaxWall:    slices.Max(walls),
		MedianCPU:  medianDuration(cpus),
		MaxRSS:     rss,
		RSSKind:    rssKind,
	}
	if med > 0 {
		sum.MBps = float64(corpusBytes) / 1e6 / med.Seconds()
	}
	return sum
}

// compare sets ours against a reference; ours[i] and ref[i] must come from the same round.
func compare(name string, ours, ref []Sample) Comparison {
	c := Comparison{Reference: name}
	n := min(len(ours), len(ref))
	if n == 0 {
		return c
	}
	oursWall := make([]time.Duration, n)
	refWall := make([]time.Duration, n)
	pairs := make([]float64, 0, n)
	for i := range n {
		oursWall[i], refWall[i] = ours[i].Wall, ref[i].Wall
		if ours[i].Wall > 0 {
			pairs = append(pairs, float64(ref[i].Wall)/float64(ours[i].Wall))
		}
	}
	if m := medianDuration(oursWall); m > 0 {
		c.RatioOfMedians = float64(medianDuration(refWall)) / float64(m)
	}
	c.MedianPairRatio = median(pairs)
	return c
}
