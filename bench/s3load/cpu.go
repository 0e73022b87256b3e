package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on every mainstream Linux build; proc(5)).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user plus system CPU time used so far by process
// pid and all its threads, read from /proc/PID/stat (proc(5): fields 14
// utime and 15 stime). It lets the report divide work done by the
// server's own CPU time, a figure that other load on the machine barely
// moves.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	return parseStat(b)
}

// parseStat extracts utime+stime from the contents of /proc/PID/stat.
// The command name (field 2) is in parentheses and may itself contain
// spaces and parentheses, so fields are counted after the last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc stat: no ')'")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state), so field 14 is f[11] and field 15 is f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the name, want 13 or more", len(f))
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return 0, fmt.Errorf("parse /proc stat: bad utime %q or stime %q", f[11], f[12])
	}
	return time.Duration(ut+st) * clockTick, nil
}

// machineBusy returns the CPU time all CPUs of the machine spent not
// idle so far, from the first line of /proc/stat (proc(5)): user, nice,
// system, irq, softirq and steal, leaving out idle and iowait.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read machine cpu time: %w", err)
	}
	return parseProcStat(b)
}

// parseProcStat sums the busy fields of the "cpu " line of /proc/stat.
func parseProcStat(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("parse /proc/stat: first line is not the cpu total")
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse /proc/stat: bad field %q", v)
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// otherLoad measures how much CPU the rest of the machine used while a
// phase ran: everything busy minus the server under test and this
// program. Figures taken while it is high are not comparable.
type otherLoad struct {
	server   int // pid, or 0 when unknown
	busy0    time.Duration
	self0    time.Duration
	server0  time.Duration
	start    time.Time
	disabled bool
}

// startOther samples the counters at the start of a phase. Without
// /proc (not Linux) the measurement is off.
func startOther(serverPID int) *otherLoad {
	o := &otherLoad{server: serverPID, start: time.Now()}
	var err error
	if o.busy0, err = machineBusy(); err != nil {
		o.disabled = true
		return o
	}
	if o.self0, err = cpuTime(os.Getpid()); err != nil {
		o.disabled = true
	}
	if serverPID > 0 {
		if o.server0, err = cpuTime(serverPID); err != nil {
			o.disabled = true
		}
	}
	return o
}

// phaseCPU is what otherLoad measured over one phase.
type phaseCPU struct {
	other  float64       // CPUs' worth of other work (1.0: one whole CPU)
	server time.Duration // CPU time of the server under test
	client time.Duration // CPU time of this program
}

// stop returns what was used during the phase; ok is false when any of
// it is unknown.
func (o *otherLoad) stop() (m phaseCPU, ok bool) {
	if o.disabled || o.server <= 0 {
		return m, false
	}
	busy, err1 := machineBusy()
	self, err2 := cpuTime(os.Getpid())
	srv, err3 := cpuTime(o.server)
	if err1 != nil || err2 != nil || err3 != nil {
		return m, false
	}
	m.server = srv - o.server0
	m.client = self - o.self0
	other := (busy - o.busy0) - m.client - m.server
	secs := time.Since(o.start).Seconds()
	if secs <= 0 {
		return m, false
	}
	m.other = max(0, other.Seconds()/secs)
	return m, true
}

// quietBelow is the machine load, in CPUs, under which waitQuiet starts
// a phase: the servers and this program are idle then, so what remains is
// other work.
const quietBelow = 0.25

// waitQuiet waits, up to maxWait, until the machine has been nearly idle
// for a 250ms window, so that a phase does not start in the middle of
// somebody else's build. It returns the load of the last window in CPUs
// (negative when /proc is unreadable) and how long it waited.
func waitQuiet(ctx context.Context, maxWait time.Duration) (load float64, waited time.Duration) {
	start := time.Now()
	for {
		b0, err := machineBusy()
		if err != nil {
			return -1, time.Since(start)
		}
		t0 := time.Now()
		select {
		case <-ctx.Done():
			return -1, time.Since(start)
		case <-time.After(250 * time.Millisecond):
		}
		b1, err := machineBusy()
		if err != nil {
			return -1, time.Since(start)
		}
		load = (b1 - b0).Seconds() / time.Since(t0).Seconds()
		if load < quietBelow || time.Since(start) >= maxWait {
			return load, time.Since(start)
		}
	}
}
