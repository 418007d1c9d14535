package mix

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"sync"

	"github.com/foreverfm/forever/audio"
)

// PlayerOptions configure a Player. The zero value uses the defaults.
type PlayerOptions struct {
	// Limiter configures the output limiter.
	Limiter LimiterOptions
	// OnStart, when set, is called from Read as each action starts playing,
	// with its Info; Info.Start is then the output frame at which the
	// action is heard, counting the limiter's delay and any silence played
	// while waiting. It must not block.
	OnStart func(Info)
	// Live makes Read play silence rather than wait when the next action
	// is not ready yet, for a stream that must keep flowing.
	Live bool
	// Prefetch is how many actions are planned ahead of the one playing;
	// default 2.
	Prefetch int
	// Logger receives rendering problems; nil logs nothing.
	Logger *slog.Logger
}

// A Player renders a sequence of actions into PCM through a Limiter. Read
// is not safe for concurrent use; Close may be called from any goroutine.
type Player struct {
	opt    PlayerOptions
	lim    *Limiter
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan Action
	wg     sync.WaitGroup

	cur      Action
	out      int64 // frames rendered into the limiter
	ended    bool  // no more actions
	flushed  int   // frames of limiter delay flushed after the end
	silences int64
}

// NewPlayer starts planning actions ahead, in a goroutine that pulls from
// actions until they end or ctx is done. The actions sequence must itself
// end when ctx is done (a Mixer's does when given the same context), since
// Close waits for that goroutine.
func NewPlayer(ctx context.Context, actions iter.Seq[Action], o PlayerOptions) *Player {
	if o.Prefetch <= 0 {
		o.Prefetch = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Player{
		opt: o, lim: NewLimiter(o.Limiter), ctx: ctx, cancel: cancel,
		ch: make(chan Action, o.Prefetch-1),
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.ch)
		for a := range actions {
			select {
			case p.ch <- a:
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

// Limiter returns the player's limiter, for its delay and statistics.
func (p *Player) Limiter() *Limiter { return p.lim }

// Close stops the player and waits for its planning goroutine.
func (p *Player) Close() error {
	p.cancel()
	p.wg.Wait()
	return nil
}

// next takes the next action, waiting unless live; it returns nil with ok
// set when live and none is ready.
func (p *Player) next() (a Action, ok bool, err error) {
	if p.opt.Live {
		select {
		case a, open := <-p.ch:
			if !open {
				return nil, false, p.ctx.Err()
			}
			return a, true, nil
		default:
			return nil, true, nil
		}
	}
	select {
	case a, open := <-p.ch:
		if !open {
			return nil, false, p.ctx.Err()
		}
		return a, true, nil
	case <-p.ctx.Done():
		return nil, false, p.ctx.Err()
	}
}

// Read fills dst, interleaved stereo of even length, with the next frames
// of the mix and returns how many frames it wrote, as Action.Render does. It returns io.EOF after
// the last action has played out of the limiter, or the context's error
// when it is done.
func (p *Player) Read(dst []float32) (int, error) {
	checkDst(dst)
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	frames := len(dst) / 2
	n := 0
	for n < frames {
		if p.ended {
			// Flush the limiter's delay with silence.
			m := min(frames-n, p.lim.Delay()-p.flushed)
			if m == 0 {
				break
			}
			clear(dst[2*n : 2*(n+m)])
			p.flushed += m
			n += m
			continue
		}
		if p.cur == nil {
			a, ok, err := p.next()
			switch {
			case err != nil:
				p.lim.Process(dst[:2*n])
				return n, err
			case !ok:
				p.ended = true
				continue
			case a == nil:
				// Live and nothing ready: a moment of silence.
				m := min(frames-n, block)
				clear(dst[2*n : 2*(n+m)])
				n += m
				p.out += int64(m)
				p.silences += int64(m)
				continue
			}
			p.cur = a
			if p.opt.OnStart != nil {
				info := a.Info()
				info.Start = p.out + int64(p.lim.Delay())
				info.StartTime = float64(info.Start) / audio.SampleRate
				p.opt.OnStart(info)
			}
		}
		m := p.cur.Render(dst[2*n:])
		n += m
		p.out += int64(m)
		if n < frames {
			if err := p.cur.Err(); err != nil {
				p.opt.Logger.Warn("mix: rendering", "kind", p.cur.Info().Kind, "err", err)
			}
			p.cur = nil
		}
	}
	p.lim.Process(dst[:2*n])
	if n == 0 && p.ended {
		return 0, io.EOF
	}
	return n, nil
}
