package demo

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// BenchmarkRender renders one full track on one goroutine and reports
// audio seconds per second of wall time.
func BenchmarkRender(b *testing.B) {
	s := Catalogue()[0]
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		s.Render()
	}
	b.ReportMetric(s.Duration()*float64(b.N)/time.Since(start).Seconds(), "x_realtime")
}

// BenchmarkRenderCatalogue renders the whole catalogue across all cores,
// as Source.Prepare does, without the cache.
func BenchmarkRenderCatalogue(b *testing.B) {
	specs := Catalogue()
	var audio float64
	for _, s := range specs {
		audio += s.Duration()
	}
	start := time.Now()
	for b.Loop() {
		work := make(chan Spec)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for s := range work {
					s.Render()
				}
			})
		}
		for _, s := range specs {
			work <- s
		}
		close(work)
		wg.Wait()
	}
	el := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(audio/el, "x_realtime")
	b.ReportMetric(el, "s/catalogue")
}

// BenchmarkLoadCached reads one full track back from the disk cache.
func BenchmarkLoadCached(b *testing.B) {
	src := Source{Dir: b.TempDir()}
	s := Catalogue()[0]
	ctx := context.Background()
	if _, err := src.Load(ctx, s); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for b.Loop() {
		if _, err := src.Load(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(s.Duration()*float64(b.N)/time.Since(start).Seconds(), "x_realtime")
}
