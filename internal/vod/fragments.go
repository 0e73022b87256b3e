package vod

import (
	"fmt"

	mp4 "github.com/abema/go-mp4"
)

// sampleIsNonSync is the sample_is_non_sync_sample bit of sample flags
// (ISO/IEC 14496-12 §8.8.3.1).
const sampleIsNonSync = 0x00010000

// readMoof reads one movie fragment (§8.8.4): its track fragments add
// samples to the tracks the moov declared.
func (w *walker) readMoof(h *mp4.ReadHandle) error {
	w.m.fragmented = true
	w.moofOffset = int64(h.BoxInfo.Offset)
	w.trafIndex = 0
	w.lastDataEnd = w.moofOffset
	_, err := h.Expand()
	return err
}

// readTraf reads one track fragment (§8.8.6).
func (w *walker) readTraf(h *mp4.ReadHandle) error {
	w.traf = &trafState{}
	_, err := h.Expand()
	w.traf = nil
	w.trafIndex++
	return err
}

// readTrafChild reads tfhd, tfdt and trun, in file order.
func (w *walker) readTrafChild(h *mp4.ReadHandle, typ string) error {
	st := w.traf
	if st == nil {
		return nil
	}
	switch typ {
	case "tfhd", "tfdt", "trun":
	default:
		return nil
	}
	b, err := w.data(h, maxTableBox)
	if err != nil {
		return err
	}
	switch typ {
	case "tfhd":
		hd, err := parseTfhd(b)
		if err != nil {
			return err
		}
		st.header, st.haveHeader = hd, true
		// The base data offset (§8.8.7.1): explicit; or the moof's start
		// (default-base-is-moof, and the first traf without it); or
		// where the previous traf's data ended.
		switch {
		case hd.hasBaseOffset:
			st.nextDataOff = hd.baseDataOffset
		case hd.baseIsMoof || w.trafIndex == 0:
			st.nextDataOff = w.moofOffset
		default:
			st.nextDataOff = w.lastDataEnd
		}
		st.base = st.nextDataOff
	case "tfdt":
		st.baseTime, err = parseTfdt(b)
		st.haveTime = err == nil
		return err
	case "trun":
		if !st.haveHeader {
			return fmt.Errorf("trun before tfhd: %w", ErrMalformed)
		}
		run, err := parseTrun(b)
		if err != nil {
			return err
		}
		return w.addRun(st, run)
	}
	return nil
}

// addRun appends a track run's samples to its track.
func (w *walker) addRun(st *trafState, run trackRun) error {
	t := w.byID[st.header.trackID]
	if t == nil {
		return fmt.Errorf("fragment for track %d, which the moov does not declare: %w", st.header.trackID, ErrMalformed)
	}
	if w.total+len(run.entries) > w.maxSamples {
		return fmt.Errorf("more than %d samples: %w", w.maxSamples, ErrTooLarge)
	}
	d := w.defaults[t.id]
	hd := st.header
	if hd.has&tfhdDefaultDuration != 0 {
		d.duration = hd.defaults.duration
	}
	if hd.has&tfhdDefaultSize != 0 {
		d.size = hd.defaults.size
	}
	if hd.has&tfhdDefaultFlags != 0 {
		d.flags = hd.defaults.flags
	}
	off := st.nextDataOff
	if run.hasDataOffset {
		off = st.base + int64(run.dataOffset)
	}
	var dts int64
	switch {
	case st.haveTime && !st.timeUsed:
		dts, st.timeUsed = int64(st.baseTime&(1<<62-1)), true
	case len(t.samples) > 0:
		last := t.samples[len(t.samples)-1]
		dts = last.dts + int64(last.dur)
	}
	for i, e := range run.entries {
		s := sample{off: off, dts: dts, size: d.size, dur: d.duration, cto: e.cto}
		flags := d.flags
		if run.flags&trunDuration != 0 {
			s.dur = e.duration
		}
		if run.flags&trunSize != 0 {
			s.size = e.size
		}
		if run.flags&trunFlags != 0 {
			flags = e.flags
		}
		if i == 0 && run.hasFirstFlags {
			flags = run.firstFlags
		}
		s.sync = t.kind != KindVideo || flags&sampleIsNonSync == 0
		if off < 0 {
			return fmt.Errorf("track %d: sample data at offset %d: %w", t.id, off, ErrMalformed)
		}
		t.samples = append(t.samples, s)
		off += int64(s.size)
		dts += int64(s.dur)
	}
	w.total += len(run.entries)
	st.nextDataOff = off
	w.lastDataEnd = off
	return nil
}
