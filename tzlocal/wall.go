package tzlocal

// FromWall is the way back from local time: it returns the Unix time at
// which the zone's wall clock reads wall, a reading given as the Unix time
// of the same date and time in UTC (time.Date(y, m, d, h, min, s, 0,
// time.UTC).Unix()). The wall clock at t reads t + Offset − LeapCorrection
// (see Info), so a leap second reads as the second before it.
//
// A reading that happens twice, when clocks go back, gives the earlier
// instant. One that never happens, in the gap when clocks go forward, is
// read with the offset in force before the change, which lands it after
// the gap. ok is false when the zone has no local time around wall (Lookup
// fails there).
func (z *Zone) FromWall(wall int64) (t int64, ok bool) {
	shift := func(t int64) (int64, bool) {
		info, ok := z.Lookup(t)
		return info.Offset - info.LeapCorrection, ok
	}
	guess, ok := shift(wall)
	if !ok {
		return 0, false
	}
	t = wall - guess
	best, found := int64(0), false
	// The offsets around t: the one there, and a day either side, which
	// covers every transition a zone has (they are rarely more than an
	// hour, never more than a day).
	var before int64
	for i, probe := range []int64{t - 86400, t, t + 86400} {
		off, ok := shift(probe)
		if !ok {
			continue
		}
		if i == 0 {
			before = off
		}
		cand := wall - off
		if got, ok := shift(cand); ok && got == off && (!found || cand < best) {
			best, found = cand, true
		}
	}
	if found {
		return best, true
	}
	return wall - before, true
}
