// Package vod packages MP4 files (progressive or fragmented; H.264 or
// H.265 video, AAC or MP3 audio) as HLS video on demand (RFC 8216): MPEG-TS
// segments, a media playlist with EXT-X-PLAYLIST-TYPE:VOD and
// EXT-X-ENDLIST, optionally encrypted with AES-128.
//
// Before packaging it analyses the input and reports, per track, the
// codec, sample count, duration, gaps between samples, frame or sample
// rate and keyframes, with findings in plain words: a video track of 4
// frames against 22,911 audio frames is named as too sparse to segment on
// keyframes, with its numbers, and the file is segmented by time on audio
// instead (case C28). Segments are cut by time, and the packager checks
// that the playlist it wrote plays as long as the input and holds every
// sample: it fails rather than publish a truncated playlist.
//
// The input is read through ranged reads of a Source, a few blocks at a
// time; only the sample index (some 40 bytes a sample) and one segment are
// held in memory. Output goes to a Sink, an object store prefix in
// practice. The package starts no goroutines and never logs unless given
// a logger.
package vod

import "errors"

// Errors callers branch on.
var (
	// ErrMalformed: the input is not an MP4 file the packager can read.
	ErrMalformed = errors.New("malformed MP4")
	// ErrTooLarge: the input's index would not fit the memory allowed.
	ErrTooLarge = errors.New("MP4 index too large")
	// ErrRead: the input could not be read (the store failed).
	ErrRead = errors.New("cannot read input")
	// ErrRefused: the analysis found a problem that stops packaging (an
	// error finding, or any warning with Strict set).
	ErrRefused = errors.New("input refused")
	// ErrTruncated: the packaged playlist does not cover the input; it
	// was not published.
	ErrTruncated = errors.New("playlist does not cover the input")
	// ErrWrite: an output object could not be written.
	ErrWrite = errors.New("cannot write output")
)
