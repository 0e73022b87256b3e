package vod

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-cdn/strata/internal/hls"
)

// packageFile packages path into a memory sink.
func packageFile(t *testing.T, p *Packager, path string, enc *Encryption) (*Result, *memSink, error) {
	t.Helper()
	sink := &memSink{}
	res, err := p.Package(context.Background(), openSource(t, path), sink, enc)
	return res, sink, err
}

// checkPlays runs ffprobe on the sink's playlist and compares its duration
// and packet counts with the input's.
func checkPlays(t *testing.T, sink *memSink, input string) {
	t.Helper()
	dir := sink.writeDir(t)
	inDur, inPkts := probe(t, input)
	gotDur, gotPkts := probe(t, filepath.Join(dir, DefaultPlaylist))
	if math.Abs(gotDur-inDur) > 0.1 {
		t.Errorf("ffprobe: the playlist plays %.3f s, the input %.3f s", gotDur, inDur)
	}
	for kind, n := range inPkts {
		if gotPkts[kind] != n {
			t.Errorf("ffprobe: the playlist has %d %s packets, the input %d", gotPkts[kind], kind, n)
		}
	}
}

func findingWith(r *Report, code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}

// The case: 4 video frames against 480 s of audio. The report names the
// sparse track with its numbers, segments are cut by time on audio, and
// the playlist plays the whole file with every frame.
func TestPackageSparseVideoByTime_C28(t *testing.T) {
	in := encode(t, "sparse.mp4", argsSparse...)
	res, sink, err := packageFile(t, &Packager{}, in, nil)
	if err != nil {
		t.Fatalf("Package: %v\n%s", err, res.Report.Text())
	}
	f := findingWith(res.Report, FindingSparseTrack)
	if f == nil {
		t.Fatalf("no sparse_track finding:\n%s", res.Report.Text())
	}
	for _, want := range []string{"video track 1 has 4 frames over 480.0 s (one every 120.0 s) against ", " audio frames", "too sparse to interleave or to segment on keyframes", "segmenting by time on audio track 2"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("finding %q lacks %q", f.Message, want)
		}
	}
	if s := res.Report.Segmenting; s == nil || s.Mode != CutTime || s.Anchor != 2 {
		t.Errorf("segmenting = %+v, want time on track 2", s)
	}
	if got, want := len(res.Segments), 80; got != want {
		t.Errorf("%d segments, want %d (480 s / 6 s)", got, want)
	}
	for i, s := range res.Segments[:len(res.Segments)-1] {
		if math.Abs(s.Duration-6) > 0.05 {
			t.Errorf("segment %d lasts %.3f s, want 6 s", i, s.Duration)
		}
	}
	if math.Abs(res.Duration-480) > 0.05 {
		t.Errorf("playlist duration %.3f s, want 480", res.Duration)
	}
	pl, err := hls.ParseMediaPlaylist(sink.objs[DefaultPlaylist])
	if err != nil || pl.Type != "VOD" || !pl.Ended || pl.Independent {
		t.Errorf("playlist %+v (%v): want VOD, ended, not independent", pl, err)
	}
	checkPlays(t, sink, in)
}

// Dense video with a keyframe every 2 s is cut on keyframes: every
// segment starts with one and the playlist says segments are independent.
func TestPackageKeyframeCut(t *testing.T) {
	in := encode(t, "av.mp4", argsAV...)
	res, sink, err := packageFile(t, &Packager{}, in, nil)
	if err != nil {
		t.Fatalf("Package: %v", err)
	}
	if len(res.Report.Findings) != 0 {
		t.Errorf("findings on a clean input:\n%s", res.Report.Text())
	}
	if got := res.Report.Segmenting.Mode; got != CutKeyframe {
		t.Errorf("mode %q, want keyframe", got)
	}
	if len(res.Segments) != 5 {
		t.Errorf("%d segments, want 5", len(res.Segments))
	}
	for i, s := range res.Segments {
		if !s.Keyframe {
			t.Errorf("segment %d does not start with a keyframe", i)
		}
	}
	pl, _ := hls.ParseMediaPlaylist(sink.objs[DefaultPlaylist])
	if pl == nil || !pl.Independent || pl.TargetDuration.Seconds() != 6 {
		t.Errorf("playlist %+v: want independent segments, target 6", pl)
	}
	if ct := sink.types["segment-00000.ts"]; ct != ContentTypeSegment {
		t.Errorf("segment content type %q", ct)
	}
	if _, ok := sink.objs[ReportName]; !ok {
		t.Errorf("no %s written", ReportName)
	}
	if sink.order[len(sink.order)-2] != DefaultPlaylist {
		t.Errorf("write order %v: the playlist must follow the segments", sink.order)
	}
	checkPlays(t, sink, in)
}

// AES-128: segments are encrypted with the sequence-number IV, the key is
// written where asked, and ffprobe plays the result through the key URI.
func TestPackageEncrypted_C28(t *testing.T) {
	in := encode(t, "sparse.mp4", argsSparse...)
	key := []byte("0123456789abcdef")
	res, sink, err := packageFile(t, &Packager{}, in, &Encryption{Key: key, KeyURI: "enc.key", KeyObject: "enc.key"})
	if err != nil {
		t.Fatalf("Package: %v", err)
	}
	if res.Key != "enc.key" || string(sink.objs["enc.key"]) != string(key) {
		t.Fatalf("key object %q = %q", res.Key, sink.objs["enc.key"])
	}
	pl, _ := hls.ParseMediaPlaylist(sink.objs[DefaultPlaylist])
	if pl == nil || pl.Key == nil || pl.Key.Method != "AES-128" || pl.Key.URI != "enc.key" {
		t.Fatalf("playlist key %+v", pl)
	}
	for i, s := range res.Segments[:3] {
		body := sink.objs[s.Name]
		if body[0] == 0x47 {
			t.Errorf("segment %d starts with a TS sync byte: not encrypted", i)
		}
		clear, err := hls.DecryptSegment(key, hls.SequenceIV(uint64(i)), body)
		if err != nil || len(clear)%188 != 0 || clear[0] != 0x47 {
			t.Errorf("segment %d: decrypted %d bytes (%v), want whole TS packets", i, len(clear), err)
		}
	}
	checkPlays(t, sink, in)
}

// Strict mode refuses the sparse input, and nothing is published.
func TestPackageStrictRefuses_C28(t *testing.T) {
	in := encode(t, "sparse.mp4", argsSparse...)
	res, sink, err := packageFile(t, &Packager{Strict: true}, in, nil)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "4 frames over 480.0 s") {
		t.Fatalf("err = %v, want ErrRefused naming the sparse track", err)
	}
	if res == nil || findingWith(res.Report, FindingSparseTrack) == nil {
		t.Errorf("no report with the finding: %+v", res)
	}
	if len(sink.objs) != 0 {
		t.Errorf("wrote %d objects on refusal", len(sink.objs))
	}
}

// Fragmented MP4, as Strata's recordings are, packages the same way.
func TestPackageFragmentedInput(t *testing.T) {
	args := append(append([]string{}, argsAV...), "-movflags", "frag_keyframe+empty_moov+default_base_moof")
	in := encode(t, "frag.mp4", args...)
	res, sink, err := packageFile(t, &Packager{}, in, nil)
	if err != nil {
		t.Fatalf("Package: %v\n%s", err, res.Report.Text())
	}
	if !res.Report.Fragmented || res.Report.Tracks[0].Samples != 750 || res.Report.Tracks[0].Keyframes != 15 {
		t.Errorf("report:\n%s", res.Report.Text())
	}
	checkPlays(t, sink, in)
}

// Audio that starts 3 s late keeps its place: the report says so and the
// playlist covers the whole file.
func TestPackageLateAudio(t *testing.T) {
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-itsoffset", "3", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "48k", "-shortest"}
	in := encode(t, "late.mp4", args...)
	res, sink, err := packageFile(t, &Packager{}, in, nil)
	if err != nil {
		t.Fatalf("Package: %v\n%s", err, res.Report.Text())
	}
	f := findingWith(res.Report, FindingLateStart)
	if f == nil || !strings.Contains(f.Message, "audio track 2 starts 3.0 s after") {
		t.Errorf("late_start finding %+v:\n%s", f, res.Report.Text())
	}
	checkPlays(t, sink, in)
}

// H.265 video and MP3 audio.
func TestPackageHEVCAndMP3(t *testing.T) {
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "12", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=50:log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame", "-b:a", "64k"}
	in := encode(t, "hevc.mp4", args...)
	res, sink, err := packageFile(t, &Packager{}, in, nil)
	if err != nil {
		t.Fatalf("Package: %v\n%s", err, res.Report.Text())
	}
	if c := res.Report.Tracks; c[0].Codec != CodecH265 || c[1].Codec != CodecMP3 {
		t.Errorf("codecs %s, %s; want h265, mp3", c[0].Codec, c[1].Codec)
	}
	checkPlays(t, sink, in)
}

// A file cut short (an interrupted upload) is refused with the numbers.
func TestPackageTruncatedFileRefused(t *testing.T) {
	args := append(append([]string{}, argsAV...), "-movflags", "+faststart")
	in := encode(t, "faststart.mp4", args...)
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.mp4")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	res, sink, err := packageFile(t, &Packager{}, cut, nil)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	f := findingWith(res.Report, FindingTruncatedFile)
	if f == nil || !strings.Contains(f.Message, "lie beyond the end of the") {
		t.Errorf("truncated_file finding %+v", f)
	}
	if len(sink.objs) != 0 {
		t.Errorf("wrote %d objects", len(sink.objs))
	}
}

// Reads go through the block cache: packaging reads each block of an
// interleaved file about once.
func TestPackageReadsFewBlocks(t *testing.T) {
	in := encode(t, "av.mp4", argsAV...)
	src := openSource(t, in)
	p := &Packager{}
	a, br, err := p.analyze(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.newWriter(a, br, &memSink{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	blocks := int(src.Size()/blockSize) + 1
	if br.reads > 2*blocks+2 {
		t.Errorf("%d block reads for a file of %d blocks", br.reads, blocks)
	}
}

// The check before publishing catches a playlist that does not cover the
// input: a segment missing, or frames that never reached a segment (the
// C28 symptom: a playlist that plays for seconds of an 8-minute file).
func TestVerifyCatchesTruncation_C28(t *testing.T) {
	in := encode(t, "av.mp4", argsAV...)
	p := &Packager{}
	a, br, err := p.analyze(context.Background(), openSource(t, in))
	if err != nil {
		t.Fatal(err)
	}
	w, err := p.newWriter(a, br, &memSink{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	body := w.playlist().Marshal()
	if err := w.verify(body); err != nil {
		t.Fatalf("verify of the real playlist: %v", err)
	}
	short := w.playlist()
	short.Segments = short.Segments[:1]
	w.results = w.results[:1]
	if err := w.verify(short.Marshal()); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "plays 6.000 s of the 30.000 s input") {
		t.Errorf("one segment of five: %v, want ErrTruncated naming the durations", err)
	}
	w, _ = p.newWriter(a, br, &memSink{}, nil)
	if err := w.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.written[a.video] -= 4
	if err := w.verify(w.playlist().Marshal()); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "746 of the 750 frames of video track 1") {
		t.Errorf("frames missing: %v, want ErrTruncated naming the frames", err)
	}
	noEnd := strings.Replace(string(body), "#EXT-X-ENDLIST\n", "", 1)
	if err := w.verify([]byte(noEnd)); !errors.Is(err, ErrTruncated) {
		t.Errorf("no ENDLIST: %v, want ErrTruncated", err)
	}
}
