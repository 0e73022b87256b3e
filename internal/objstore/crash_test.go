package objstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const crashDirEnv = "STRATA_OBJSTORE_CRASH_DIR"

// TestCrashChild is the process TestCrashSafety kills: it writes, overwrites,
// copies, deletes and assembles objects until it is killed, printing a
// "progress" line after each operation. It does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashSafety")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashDirEnv+"_SEED"), 10, 64)
	opts := Options{MinPartSize: 1}
	pause := os.Getenv(crashDirEnv + "_PAUSE")
	if pause != "" {
		// The pause points are on the way of a data file; objects the
		// catalog holds commit with their data in one step.
		opts.InlineMax = -1
	}
	s, err := Open(dir, opts)
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "crash"); err != nil && !strings.Contains(err.Error(), ErrBucketExists.Error()) {
		fmt.Printf("error bucket: %v\n", err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	// With a pause point set, the child runs a few random operations, then
	// overwrites k0 and stops at that point, saying "paused", to be killed
	// there.
	if pause != "" {
		testHook = func(point string) {
			if point == pause {
				fmt.Printf("paused at %s\n", point)
				select {}
			}
		}
	}
	for i := 0; ; i++ {
		if pause != "" && i == 5 {
			put(t, s, "crash", "k0", []byte("seed"))
			// An overwrite: "placed" pauses before its commit,
			// "committed" before the old file is unlinked, "body"
			// while the body is half received.
			if pause == "body" {
				pr, pw := io.Pipe()
				go func() {
					pw.Write(make([]byte, 1000))
					fmt.Printf("paused at body\n")
				}()
				s.PutObject(ctx, "crash", "k0", pr, PutOptions{Size: 2000})
			} else {
				s.PutObject(ctx, "crash", "k0", strings.NewReader("overwrite"), PutOptions{Size: -1})
			}
			select {}
		}
		key := fmt.Sprintf("k%d", rng.IntN(8))
		var err error
		switch op := rng.IntN(10); {
		case op < 5:
			data := randBytes(rng, rng.IntN(256<<10))
			_, err = s.PutObject(ctx, "crash", key, bytes.NewReader(data), PutOptions{Size: int64(len(data))})
		case op < 7:
			var id string
			id, err = s.CreateMultipartUpload(ctx, "crash", key, Meta{})
			var parts []CompletePart
			for n := 1; err == nil && n <= 3; n++ {
				var p PartInfo
				data := randBytes(rng, 1+rng.IntN(64<<10))
				p, err = s.UploadPart(ctx, "crash", key, id, n, bytes.NewReader(data), PutOptions{Size: -1})
				parts = append(parts, CompletePart{PartNumber: n, ETag: p.ETag})
			}
			if err == nil {
				_, err = s.CompleteMultipartUpload(ctx, "crash", key, id, parts)
			}
		case op < 8:
			_, err = s.CopyObject(ctx, "crash", fmt.Sprintf("k%d", rng.IntN(8)), "crash", key, CopyOptions{})
		default:
			err = s.DeleteObject(ctx, "crash", key)
		}
		if err != nil && !strings.Contains(err.Error(), ErrNoSuchKey.Error()) {
			fmt.Printf("error op: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("progress %d\n", i)
	}
}

// TestCrashSafety kills a writing process with SIGKILL at varying points
// and checks that, after Open, every visible object reads back exactly as
// its metadata says and that no temporary or unreferenced file is left.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("child process")
	}
	dir := t.TempDir()
	rounds := []struct {
		after int    // kill after this many operations, or
		pause string // at this point (see TestCrashChild)
		logs  string // what Open must then report removing
	}{
		{after: 1},
		// A body cut short leaves a partial data file that no row
		// references.
		{pause: "body", logs: "removed data file no object or part references"},
		{after: 9},
		{pause: "placed", logs: "removed data file no object or part references"},
		{after: 17},
		{pause: "committed", logs: "removed data file of a replaced or deleted object"},
		{after: 30},
	}
	for round, rd := range rounds {
		after := rd.after
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, fmt.Sprintf("%s_SEED=%d", crashDirEnv, round+1),
			crashDirEnv+"_PAUSE="+rd.pause)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after observing `after` operations; the child is then in
		// the middle of the next one.
		sc := bufio.NewScanner(stdout)
		seen := 0
		paused := false
		for (rd.pause != "" && !paused || seen < after) && sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Errorf("round %d: child: %s", round, line)
			}
			if strings.HasPrefix(line, "progress") {
				seen++
			}
			paused = line == "paused at "+rd.pause
		}
		cmd.Process.Kill()
		go io.Copy(io.Discard, stdout)
		cmd.Wait()
		if seen < after || rd.pause != "" && !paused {
			t.Fatalf("round %d: child ended after %d operations (paused: %v), want %d", round, seen, paused, after)
		}
		logs := verifyStore(t, dir, round)
		if !strings.Contains(logs, rd.logs) {
			t.Errorf("round %d: killed at %q; Open logged %q, want it to report %q", round, rd.pause, logs, rd.logs)
		}
	}
}

// verifyStore opens the store in dir, checks it and returns what Open
// logged.
func verifyStore(t *testing.T, dir string, round int) string {
	t.Helper()
	var logs bytes.Buffer
	s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("round %d: Open after kill: %v", round, err)
	}
	defer s.Close()
	ctx := context.Background()
	res, err := s.ListObjects(ctx, "crash", ListOptions{})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	for _, info := range res.Objects {
		data, oi := readAll(t, s, "crash", info.Key)
		nvme, ecma := crcs(data)
		switch {
		case int64(len(data)) != oi.Size:
			t.Errorf("round %d: %s has %d bytes, metadata says %d", round, info.Key, len(data), oi.Size)
		case nvme != oi.CRC64NVME || ecma != oi.CRC64ECMA:
			t.Errorf("round %d: %s CRC64s %x/%x, metadata says %x/%x", round, info.Key, nvme, ecma, oi.CRC64NVME, oi.CRC64ECMA)
		case oi.PartsCount == 0 && (oi.ETag != hex.EncodeToString(md5sum(data)) || !bytes.Equal(oi.MD5, md5sum(data))):
			t.Errorf("round %d: %s MD5 %x, metadata says %x (ETag %s)", round, info.Key, md5sum(data), oi.MD5, oi.ETag)
		case oi.PartsCount > 0 && !strings.HasSuffix(oi.ETag, fmt.Sprintf("-%d", oi.PartsCount)):
			t.Errorf("round %d: %s multipart ETag %q lacks -%d", round, info.Key, oi.ETag, oi.PartsCount)
		}
	}
	refs := map[string]bool{}
	if err := s.cat.ReferencedFiles(ctx, func(id string) { refs[id] = true }); err != nil {
		t.Fatal(err)
	}
	// Every file, spares included: Open must have removed them.
	data, tmp := listFiles(t, dir, true)
	if len(tmp) != 0 {
		t.Errorf("round %d: temporary files left after Open: %v", round, tmp)
	}
	for _, p := range data {
		id := p[strings.LastIndexByte(p, '/')+1:]
		if !refs[id] {
			t.Errorf("round %d: unreferenced data file left after Open: %s", round, p)
		}
		delete(refs, id)
	}
	for id := range refs {
		t.Errorf("round %d: referenced data file %s is missing", round, id)
	}
	t.Logf("round %d: %d objects verified, %d data files", round, len(res.Objects), len(data))
	return logs.String()
}

// TestCrashChildConcurrent is the process TestCrashSafetyConcurrent kills:
// writers put new keys at the same time (so their metadata commits share
// transactions) and print "acked KEY" once each put has returned.
func TestCrashChildConcurrent(t *testing.T) {
	dir := os.Getenv(crashDirEnv + "_CONCURRENT")
	if dir == "" {
		t.Skip("runs only as the child of TestCrashSafetyConcurrent")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Printf("error open: %v\n", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if err := s.CreateBucket(ctx, "crash"); err != nil && !strings.Contains(err.Error(), ErrBucketExists.Error()) {
		fmt.Printf("error bucket: %v\n", err)
		os.Exit(2)
	}
	var mu sync.Mutex // one line at a time on stdout
	for w := range 8 {
		go func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				data := crashContent(key)
				if _, err := s.PutObject(ctx, "crash", key, bytes.NewReader(data), PutOptions{Size: int64(len(data))}); err != nil {
					mu.Lock()
					fmt.Printf("error put %s: %v\n", key, err)
					mu.Unlock()
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("acked %s\n", key)
				mu.Unlock()
			}
		}()
	}
	select {}
}

// crashContent is the content TestCrashChildConcurrent stores under key.
func crashContent(key string) []byte {
	var seed uint64
	for _, c := range []byte(key) {
		seed = seed*131 + uint64(c)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	return randBytes(rng, rng.IntN(8<<10))
}

// TestCrashSafetyConcurrent kills a process in the middle of concurrent
// puts and checks that every put it acknowledged is there, intact, after
// Open, besides what verifyStore checks.
func TestCrashSafetyConcurrent(t *testing.T) {
	if os.Getenv(crashDirEnv+"_CONCURRENT") != "" {
		t.Skip("child process")
	}
	dir := t.TempDir()
	for round, after := range []int{5, 60} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildConcurrent$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"_CONCURRENT="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var acked []string
		sc := bufio.NewScanner(stdout)
		for len(acked) < after && sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Errorf("round %d: child: %s", round, line)
			}
			if k, ok := strings.CutPrefix(line, "acked "); ok {
				acked = append(acked, k)
			}
		}
		cmd.Process.Kill()
		go io.Copy(io.Discard, stdout)
		cmd.Wait()
		if len(acked) < after {
			t.Fatalf("round %d: child ended after %d puts, want %d", round, len(acked), after)
		}
		verifyStore(t, dir, round)
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range acked {
			if got, _ := readAll(t, s, "crash", k); !bytes.Equal(got, crashContent(k)) {
				t.Errorf("round %d: acknowledged %s reads %d bytes, not what was put", round, k, len(got))
			}
		}
		s.Close()
	}
}
