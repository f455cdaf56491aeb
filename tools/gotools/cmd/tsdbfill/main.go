// Command tsdbfill writes days of history into Prometheus TSDB blocks, for bench/history.py: the
// series of a live run (their label sets and their pace, read from that run's Prometheus), extended
// back over days, so that the Overview can be timed at a 7 d range without waiting a week.
//
// promtool's OpenMetrics backfill needs the whole history as text (about 230 bytes a sample: 400 GB
// for a week of 10,000 tenants); this writes the blocks directly with the TSDB's own BlockWriter,
// one block per day, from one line of JSON per series on standard input:
//
//	{"labels": {"__name__": "x", ...}, "counter": true, "value": 2.5, "step_s": 15}
//
// A counter grows by `value` per second from 0 at the start; anything else is a gauge around `value`
// (a daily wave of +-20 %, phase per series). Usage: tsdbfill -dir DIR -end-ms T -days N < series.jsonl
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

type series struct {
	Labels  map[string]string `json:"labels"`
	Counter bool              `json:"counter"`
	Value   float64           `json:"value"`
	StepS   int64             `json:"step_s"`
	labels  labels.Labels
}

const dayMs = int64(24 * 3600 * 1000)

func main() {
	dir := flag.String("dir", "", "the TSDB folder to write blocks into (Prometheus' --storage.tsdb.path)")
	endMs := flag.Int64("end-ms", 0, "the history's end, in Unix milliseconds")
	days := flag.Int("days", 7, "days of history before -end-ms")
	flag.Parse()
	if *dir == "" || *endMs <= 0 || *days < 1 {
		fail("usage: tsdbfill -dir DIR -end-ms T -days N < series.jsonl")
	}
	all, err := read(os.Stdin)
	if err != nil {
		fail(err.Error())
	}
	start := *endMs - int64(*days)*dayMs
	var samples int64
	for day := 0; day < *days; day++ {
		from := start + int64(day)*dayMs
		n, err := writeBlock(*dir, all, start, from, from+dayMs)
		if err != nil {
			fail(fmt.Sprintf("day %d: %v", day+1, err))
		}
		samples += n
		fmt.Fprintf(os.Stderr, "tsdbfill: day %d of %d written (%d samples)\n", day+1, *days, n)
	}
	fmt.Printf("{\"series\": %d, \"samples\": %d}\n", len(all), samples)
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "tsdbfill: "+message)
	os.Exit(2)
}

func read(in io.Reader) ([]*series, error) {
	var all []*series
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; scanner.Scan(); line++ {
		s := &series{}
		if err := json.Unmarshal(scanner.Bytes(), s); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if s.StepS < 1 || s.Labels["__name__"] == "" {
			return nil, fmt.Errorf("line %d: needs labels with __name__ and step_s >= 1", line)
		}
		s.labels = labels.FromMap(s.Labels)
		all = append(all, s)
	}
	return all, scanner.Err()
}

// writeBlock appends every series' samples in [from, to) and flushes them as one block.
func writeBlock(dir string, all []*series, start, from, to int64) (int64, error) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The head takes samples at most half its block size behind its newest one; series go in one after
	// the other, each over the whole day, so the head spans two days (as promtool's backfill does).
	writer, err := tsdb.NewBlockWriter(logger, dir, 2*(to-from))
	if err != nil {
		return 0, err
	}
	defer writer.Close()
	var samples int64
	for i, s := range all {
		app := writer.Appender(ctx)
		step := s.StepS * 1000
		first := from + (step-(from-start)%step)%step // on the series' grid from the history's start
		for t := first; t < to; t += step {
			if _, err := app.Append(0, s.labels, t, s.at(i, start, t)); err != nil {
				return 0, fmt.Errorf("%s: %w", s.labels.String(), err)
			}
			samples++
		}
		if err := app.Commit(); err != nil {
			return 0, err
		}
	}
	if _, err := writer.Flush(ctx); err != nil {
		return 0, err
	}
	return samples, nil
}

func (s *series) at(index int, start, t int64) float64 {
	if s.Counter {
		return s.Value * float64(t-start) / 1000
	}
	phase := 2 * math.Pi * float64(index%97) / 97
	return s.Value * (1 + 0.2*math.Sin(2*math.Pi*float64(t%dayMs)/float64(dayMs)+phase))
}
