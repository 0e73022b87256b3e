// Command logsgen writes a synthetic edge access log for benchmarking
// "strata logs analyze": hours of ordinary traffic with, each hour, a
// range storm (C09), a client hammering one object, a hit-ratio drop and a
// 5xx burst from one parent (C18). See internal/logs.Generate.
//
//	go run ./bench/logsgen -format strata -size 1GiB -o /tmp/access.log
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/logs"
)

func main() {
	format := flag.String("format", "strata", "strata (JSON lines) or nginx (combined)")
	size := flag.String("size", "1GiB", "write at least this much (KiB, MiB, GiB suffixes)")
	out := flag.String("o", "", "output file (required)")
	perHour := flag.Int("per-hour", 200000, "ordinary requests per hour")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: logsgen -format strata|nginx -size 1GiB -o FILE")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "logsgen:", err)
		os.Exit(1)
	}
	written, err := logs.Generate(f, logs.GenOptions{Format: logs.Format(*format), Seed: 1, Bytes: n, NoisePerHour: *perHour})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "logsgen:", err)
		os.Exit(1)
	}
	fmt.Printf("%d bytes\n", written)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v * mult, err
}
