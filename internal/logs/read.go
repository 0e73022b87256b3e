package logs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxLine bounds one log line; a longer one is skipped as malformed.
const maxLine = 256 << 10

// Read parses every line of r (gzip-compressed or not, detected by its
// magic number) into the Analyzer. name labels malformed-line examples.
// progress, if not nil, is called now and then with the bytes consumed
// from r so far.
func (a *Analyzer) Read(name string, r io.Reader, progress func(n int64)) error {
	cr := &countingReader{r: r, progress: progress}
	br := bufio.NewReaderSize(cr, 256<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read %s: gzip: %w", name, err)
		}
		defer zr.Close()
		in = bufio.NewReaderSize(zr, 256<<10)
	}
	lr := in.(*bufio.Reader)
	var rec Record
	lineNo := int64(0)
	for {
		line, err := lr.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long: skip to the end of the line.
			lineNo++
			a.lines++
			a.bad(name, lineNo, fmt.Errorf("line longer than %d bytes", maxLine))
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = lr.ReadSlice('\n')
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			continue
		}
		if len(line) > 0 {
			lineNo++
			a.Line(name, lineNo, line, &rec)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
	if progress != nil {
		progress(cr.n)
	}
	return nil
}

// Line parses one line (the trailing newline optional) and adds its record;
// rec is scratch space reused between calls. Empty lines are ignored.
func (a *Analyzer) Line(name string, lineNo int64, line []byte, rec *Record) {
	line = bytes.TrimRight(line, "\r\n")
	trimmed := bytes.TrimLeft(line, " \t")
	if len(trimmed) == 0 {
		return
	}
	a.lines++
	f := a.opt.Format
	if f == FormatAuto || f == "" {
		f = FormatNginx
		if trimmed[0] == '{' {
			f = FormatStrata
		}
	}
	var err error
	if f == FormatStrata {
		err = ParseStrata(trimmed, rec)
	} else {
		err = ParseNginx(trimmed, rec)
	}
	if err != nil {
		a.bad(name, lineNo, err)
		return
	}
	a.formats[f] = true
	a.Add(rec)
}

// bad counts a malformed line, keeping the first few as examples.
func (a *Analyzer) bad(name string, lineNo int64, err error) {
	a.malformed++
	if len(a.examples) < maxExamples {
		msg := err.Error()
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		a.examples = append(a.examples, fmt.Sprintf("%s:%d: %s", name, lineNo, msg))
	}
}

// ReadFile reads one file (or standard input for "-") into the Analyzer.
func (a *Analyzer) ReadFile(path string, progress func(n int64)) error {
	if path == "-" {
		return a.Read("stdin", os.Stdin, progress)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()
	return a.Read(path, f, progress)
}

// countingReader counts the bytes read through it and reports them every
// 4 MiB.
type countingReader struct {
	r        io.Reader
	n, last  int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && c.n-c.last >= 4<<20 {
		c.last = c.n
		c.progress(c.n)
	}
	return n, err
}

// AnalyzeFiles reads the files in order and returns their report.
// progress, if not nil, is called with the bytes consumed so far across
// all files.
func AnalyzeFiles(paths []string, opt Options, progress func(n int64)) (*Report, error) {
	a := NewAnalyzer(opt)
	var done int64
	for _, p := range paths {
		var pf func(int64)
		if progress != nil {
			base := done
			pf = func(n int64) { done = base + n; progress(done) }
		}
		if err := a.ReadFile(p, pf); err != nil {
			return nil, err
		}
	}
	rep := a.Report()
	rep.Inputs = append([]string(nil), paths...)
	return rep, nil
}
