package forever_test

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"

	"github.com/foreverfm/forever"
	"github.com/foreverfm/forever/mix"
	"github.com/foreverfm/forever/source/demo"
)

// A radio on the built-in demo catalogue, mounted under /radio/ in a
// program's own mux beside its own handler, with a transition policy of
// its own: crossfade every pair that is far apart in tempo, leave the
// rest to the default policy.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	def := mix.DefaultPolicy{}
	r, err := forever.New(forever.Config{
		Source: demo.Source{},
		Logger: slog.Default(),
		Mixer: mix.Options{Policy: mix.PolicyFunc(func(h mix.Handover) mix.Transition {
			if t := h.Out.Analysis.Tempo / h.In.Analysis.Tempo; t > 1.1 || t < 1/1.1 {
				tr := def.Fallback(h)
				tr.Reason = "tempos too far apart for my taste"
				return tr
			}
			return def.Plan(h)
		})},
		OnEvent: func(e forever.Event) {
			if e.Kind == forever.TransitionPlanned {
				log.Printf("%s: %s", e.Info.Kind, e.Info.Reason)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hello\n")) })
	mux.Handle("/radio/", http.StripPrefix("/radio", r.Handler()))

	srv := &http.Server{Addr: "localhost:8080", Handler: mux}
	go srv.ListenAndServe()
	if err := r.Run(ctx); err != nil { // until ^C
		log.Print(err)
	}
	srv.Shutdown(context.Background())
}
