package record

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/recmux"
)

// Start checks every app's target, logging loudly the ones that refuse
// writes (case C35), and uploads the files a previous run left in the
// spool: files cut short by a crash or a shutdown, and files whose upload
// failed. It lists the spool before it returns, so sessions recorded from
// now on are not mistaken for leftovers; the work runs in the background.
func (r *Recorder) Start() {
	r.init()
	left, _ := filepath.Glob(filepath.Join(r.SpoolDir, "*.json"))
	sort.Strings(left)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for app, err := range r.Check(r.ctx) {
			r.log().Error("recording target is not writable: recordings of this app will fail until it is fixed",
				"app", app, "target", r.Apps[app].Target.String(), "err", err.Error())
		}
		for _, meta := range left {
			if r.ctx.Err() != nil {
				return
			}
			r.recoverFile(strings.TrimSuffix(meta, ".json"))
		}
	}()
}

// spooled is what a spool meta file says.
type spooled struct {
	file   spoolFile
	tracks []recmux.Track
	frags  []recmux.FragmentInfo
	end    *recmux.FileSummary
}

// readSpool reads a spool meta file; a line cut short by a crash ends it.
func readSpool(path string) (spooled, error) {
	var sp spooled
	f, err := os.Open(path)
	if err != nil {
		return sp, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	haveFile := false
	for sc.Scan() {
		var l spoolLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			break
		}
		switch {
		case l.File != nil:
			sp.file, haveFile = *l.File, true
		case l.Tracks != nil:
			sp.tracks = l.Tracks
		case l.Frag != nil:
			sp.frags = append(sp.frags, *l.Frag)
		case l.End != nil:
			sp.end = l.End
			sp.tracks = l.End.Tracks
		}
	}
	if !haveFile {
		return sp, fmt.Errorf("spool %s: no file line", path)
	}
	return sp, nil
}

// recoverFile uploads the spooled file at base (path without extension).
func (r *Recorder) recoverFile(base string) {
	log := r.log().With("spool", base+".mp4")
	sp, err := readSpool(base + ".json")
	if err != nil {
		log.Warn("unreadable recording spool file left alone", "err", err.Error())
		return
	}
	cfg, ok := r.Apps[sp.file.App]
	if !ok {
		log.Warn("a spooled recording's app no longer records; the file is left in the spool", "app", sp.file.App, "key", sp.file.Key)
		return
	}
	st, err := os.Stat(base + ".mp4")
	var size int64
	n := 0
	for ; err == nil && n < len(sp.frags) && size+sp.frags[n].Size <= st.Size(); n++ {
		size += sp.frags[n].Size
	}
	if n == 0 || len(sp.tracks) == 0 {
		log.Info("empty recording spool file removed", "key", sp.file.Key)
		os.Remove(base + ".mp4")
		os.Remove(base + ".json")
		return
	}
	frags := sp.frags[:n]
	hdr, err := recmux.Header(sp.tracks, frags)
	if err != nil {
		log.Warn("spooled recording left alone: its header cannot be built", "err", err.Error())
		return
	}
	fs := FileStatus{Stream: sp.file.App + "/" + sp.file.Stream, Session: sp.file.Session, Seq: sp.file.Seq,
		Bucket: cfg.Bucket, Key: sp.file.Key, Started: sp.file.Started, StartReason: sp.file.Reason,
		Size: int64(len(hdr)) + size}
	var dur time.Duration
	for _, f := range frags {
		for _, s := range f.Spans {
			for _, t := range sp.tracks {
				if t.ID == s.Track && t.TimeScale > 0 {
					dur = max(dur, time.Duration(s.Start+s.Duration)*time.Second/time.Duration(t.TimeScale))
				}
			}
		}
	}
	sum := recmux.FileSummary{Tracks: sp.tracks, Duration: dur}
	if sp.end != nil {
		sum.Notes, fs.EndReason = sp.end.Notes, sp.end.EndReason
	} else {
		fs.EndReason = "the recording was cut short (crash or shutdown); recovered from the spool"
	}
	fs.fill(sum)
	err = r.upload(cfg, sp.file.Key, hdr, base, size)
	if err != nil {
		fs.State, fs.Error, fs.Spool = StateFailed, err.Error(), base+".mp4"
		log.Error("spooled recording not uploaded; retried at the next start", "key", sp.file.Key, "err", err.Error())
	} else {
		fs.State = StateUploaded
		log.Info("spooled recording uploaded", "key", sp.file.Key, "bucket", cfg.Bucket, "size", fs.Size)
	}
	r.finish(fs.Stream, fs)
}
