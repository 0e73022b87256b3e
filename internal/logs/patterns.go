package logs

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// rangeStorms finds URLs asked for in ranges many times, by few clients,
// never served from the cache, while the origin sent more than the clients
// got: the edge fetched whole objects for ranges and cached nothing (C09).
// Without origin byte counts (nginx), every range request being a miss is
// the evidence.
func (a *Analyzer) rangeStorms() []Pattern {
	var out []Pattern
	for _, e := range a.ranges.sorted() {
		v := e.v
		if v.partial < a.th.StormMin206 || v.hits > 0 || v.more || len(v.clients) > a.th.StormMaxClients {
			continue
		}
		ev := map[string]any{
			"responses_206":  v.partial,
			"range_requests": e.n,
			"cache_hits":     v.hits,
			"clients":        sortedCopy(v.clients),
			"bytes_sent":     v.sent,
		}
		summary := ""
		if a.tot.OriginKnown {
			if v.origin <= v.sent {
				continue
			}
			ev["bytes_origin"] = v.origin
			ev["origin_to_client"] = round1(float64(v.origin) / float64(max(v.sent, 1)))
			summary = fmt.Sprintf("range storm that never caches: %d partial responses to %d client(s), none from the cache; the origin sent %s for %s delivered (%.1fx)",
				v.partial, len(v.clients), humanBytes(v.origin), humanBytes(v.sent), float64(v.origin)/float64(max(v.sent, 1)))
		} else {
			summary = fmt.Sprintf("range storm that never caches: %d partial responses to %d client(s), every one a cache miss (origin bytes not logged)",
				v.partial, len(v.clients))
		}
		out = append(out, Pattern{
			Kind: PatternRangeStorm, Case: "C09", Subject: e.key, From: v.first, To: v.last,
			Summary:  summary,
			Evidence: ev,
		})
	}
	return capPatterns(out)
}

// hammering finds one client asking for one URL over and over.
func (a *Analyzer) hammering() []Pattern {
	var out []Pattern
	for _, e := range a.pairs.sorted() {
		if e.n < a.th.HammerMin {
			break // sorted by count
		}
		span := e.v.last.Sub(e.v.first)
		rate := float64(e.n) / max(span.Seconds(), 1)
		if rate < a.th.HammerPerSec {
			continue
		}
		client, url, _ := strings.Cut(e.key, " ")
		share := 0.0
		if u := a.urls.get(url); u != nil {
			share = float64(e.n) / float64(u.v.requests)
		}
		out = append(out, Pattern{
			Kind: PatternHammering, Subject: url, From: e.v.first, To: e.v.last,
			Summary: fmt.Sprintf("client %s requested one URL %d times in %v (%.1f/s), %.0f%% of that URL's requests",
				client, e.n, span.Round(time.Second), rate, share*100),
			Evidence: map[string]any{
				"client":          client,
				"requests":        e.n,
				"per_second":      round1(rate),
				"bytes_sent":      e.v.bytes,
				"error_responses": e.v.errors,
				"share_of_url":    round3(share),
			},
		})
	}
	return capPatterns(out)
}

// hitRatioDrops finds runs of buckets whose hit ratio fell well below the
// median of the buckets with enough lookups.
func (a *Analyzer) hitRatioDrops(tl []Bucket) []Pattern {
	var ratios []float64
	for _, b := range tl {
		if b.Lookups >= a.th.DropMinLookups {
			ratios = append(ratios, b.HitRatio)
		}
	}
	if len(ratios) < 3 {
		return nil
	}
	sort.Float64s(ratios)
	median := ratios[len(ratios)/2]
	limit := median - a.th.DropPoints
	if limit <= 0 {
		return nil
	}
	var out []Pattern
	for i := 0; i < len(tl); i++ {
		if tl[i].Lookups < a.th.DropMinLookups || tl[i].HitRatio >= limit {
			continue
		}
		j := i
		var lookups, hits int64
		lowest := 1.0
		misses := newCounter[struct{}](64)
		for ; j < len(tl) && tl[j].Lookups >= a.th.DropMinLookups && tl[j].HitRatio < limit; j++ {
			lookups += tl[j].Lookups
			hits += tl[j].Hits
			lowest = min(lowest, tl[j].HitRatio)
			if b := a.buckets[a.bucketIndex(tl[j].Start)]; b != nil && b.missURLs != nil {
				for _, e := range b.missURLs.m {
					misses.add(e.key, e.n)
				}
			}
		}
		from, to := tl[i].Start, tl[j-1].Start.Add(a.width)
		ev := map[string]any{
			"median_hit_ratio": round3(median),
			"hit_ratio":        round3(ratio(hits, lookups)),
			"lowest_bucket":    round3(lowest),
			"lookups":          lookups,
			"misses":           lookups - hits,
			"buckets":          int64(j - i),
		}
		var top []string
		for _, e := range misses.top(3) {
			top = append(top, fmt.Sprintf("%s (%d)", e.key, e.n))
		}
		if len(top) > 0 {
			ev["top_miss_urls"] = top
		}
		out = append(out, Pattern{
			Kind: PatternHitRatioDrop, Subject: "cache", From: from, To: to,
			Summary: fmt.Sprintf("hit ratio fell to %.0f%% (median %.0f%%) for %v, %d misses",
				ratio(hits, lookups)*100, median*100, to.Sub(from), lookups-hits),
			Evidence: ev,
		})
		i = j
	}
	return capPatterns(out)
}

// bursts finds windows (Analyzer.burstWidth) in which one origin or parent
// failed most of the fetches sent to it, merged into runs (C18).
func (a *Analyzer) bursts() []Pattern {
	addrs := make([]string, 0, len(a.upstreams))
	for addr := range a.upstreams {
		addrs = append(addrs, addr)
	}
	sort.Strings(addrs)
	var out []Pattern
	for _, addr := range addrs {
		u := a.upstreams[addr]
		idx := make([]int64, 0, len(u.buckets))
		for i, b := range u.buckets {
			if b.failed >= a.th.BurstMin && float64(b.failed) >= a.th.BurstShare*float64(b.attempts) {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx)
		for k := 0; k < len(idx); {
			m := k
			var att, failed, retried int64
			st := map[int]int64{}
			for ; m < len(idx) && idx[m] == idx[k]+int64(m-k); m++ {
				b := u.buckets[idx[m]]
				att += b.attempts
				failed += b.failed
				retried += b.retriedOK
				for s, n := range b.statuses {
					st[s] += n
				}
			}
			bw := int64(a.burstWidth())
			from := time.Unix(0, idx[k]*bw).UTC()
			to := time.Unix(0, (idx[m-1]+1)*bw).UTC()
			var stl []string
			for _, sc := range statusList(st) {
				name := fmt.Sprint(sc.Status)
				if sc.Status == 0 {
					name = "no response"
				}
				stl = append(stl, fmt.Sprintf("%s: %d", name, sc.Count))
			}
			summary := fmt.Sprintf("upstream %s failed %d of %d fetches in %v (%s)", addr, failed, att, to.Sub(from), strings.Join(stl, ", "))
			if retried > 0 {
				summary += fmt.Sprintf("; %d retried elsewhere with success", retried)
			}
			out = append(out, Pattern{
				Kind: Pattern5xxBurst, Case: "C18", Subject: addr, From: from, To: to,
				Summary: summary,
				Evidence: map[string]any{
					"attempts":   att,
					"failed":     failed,
					"retried_ok": retried,
					"statuses":   stl,
				},
			})
			k = m
		}
	}
	slices.SortStableFunc(out, func(x, y Pattern) int { return x.From.Compare(y.From) })
	return capPatterns(out)
}

func capPatterns(p []Pattern) []Pattern {
	if len(p) > maxPatternsPerKind {
		return p[:maxPatternsPerKind]
	}
	return p
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// humanBytes formats n in binary units ("1.5 MiB").
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= unit
		if f < unit {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	return fmt.Sprintf("%.1f EiB", f/unit)
}
