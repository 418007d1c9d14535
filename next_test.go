package forever

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source/demo"
)

// What will air is the mixer's committed queue first, in the order given
// to it, then the plan; as two transitions go on air, their incoming
// tracks leave the queue.
func TestNextListsQueueThenPlan(t *testing.T) {
	r, err := New(Config{Source: demo.Source{}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	span := func(id string) mix.Span { return mix.Span{ID: id, Title: id, Source: id} }
	ids := func() []string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var out []string
		for _, n := range r.State(ctx).Next {
			out = append(out, n.ID)
		}
		return out
	}
	// The feed has given the mixer a, b, c and d; a plays.
	r.queue = []mix.Span{span("a"), span("b"), span("c"), span("d")}
	r.started(mix.Info{Kind: mix.KindFadein, Tracks: []mix.Span{span("a")}})
	want := []string{"b", "c", "d"}
	if got := ids(); !slices.Equal(got, want) {
		t.Fatalf("with a on air, next is %v, want %v", got, want)
	}
	// First transition: a into b, then b on its own (b stays on air).
	r.started(mix.Info{Kind: mix.KindCrossmatch, Tracks: []mix.Span{span("a"), span("b")}})
	r.started(mix.Info{Kind: mix.KindPlayback, Tracks: []mix.Span{span("b")}})
	if got, want := ids(), []string{"c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("after the first transition, next is %v, want %v", got, want)
	}
	// Second transition: b into c.
	r.started(mix.Info{Kind: mix.KindCrossfade, Tracks: []mix.Span{span("b"), span("c")}})
	if got, want := ids(), []string{"d"}; !slices.Equal(got, want) {
		t.Fatalf("after the second transition, next is %v, want %v", got, want)
	}
	if st := r.State(context.Background()); st.OnAir.Kind != mix.KindCrossfade {
		t.Errorf("on air is %q, want the crossfade", st.OnAir.Kind)
	}
}
