// Package analysis listens to a track and describes it: tempo, beats, bars
// and tatums, segments with timbre and pitch vectors, sections, key,
// loudness (ITU-R BS.1770-4) and energy, in the shape of the Echo Nest
// analysis that Forever.fm was built on.
//
// Analyze works on PCM in memory; AnalyzeFile and AnalyzeReader decode
// first. All of them honour a context.Context, which stops a long analysis
// between frames. The result is plain data, serialisable as JSON with the
// Echo Nest field names, and carries Version so that caches can tell when
// the algorithms changed.
//
// # How
//
// The track is mixed to mono and decimated to 22.05 kHz, and one STFT
// (2048-sample Hann window, 512-sample hop: 23 ms frames) feeds every
// feature: 40 mel bands in dB, a 12-bin chroma (100 Hz to 5 kHz), the frame
// level, and onset envelopes (rectified log-mel flux minus its local mean)
// over all bands, the bass bands, the bands below 2.5 kHz, and the bands of
// the kick (below 140 Hz), the snare (2.3-6.6 kHz) and the hats. The frames
// are computed on all cores; the EBU R128 loudness meter runs beside them.
//
//   - Tempo: the autocorrelation of the onset envelope, read at each
//     candidate period with a little support from twice and half the period,
//     times a log-Gaussian prior around 130 BPM (0.7 octave wide). A pulse
//     that does not divide the strongest bar-length periodicity into whole
//     beats (the three eighths of a 3+3+2 grouping) gives way to the bar
//     divided by 2, 3 or 4. When the onset envelope barely repeats at all
//     (under 0.1 of it at its best period: slurred melody over sustained
//     chords, whose notes change pitch but hardly the level of any band),
//     the same estimate runs on the flux of the chroma in dB, and if that
//     repeats more, it gives the tempo and carries the beats.
//   - Beats: dynamic programming after Ellis (2007) on an envelope that mixes
//     the log-mel flux with a compressed linear energy flux (led by the
//     loudest events, the kick and snare, so that a busy syncopated bass line
//     does not pull the beat onto the off-beat), with a local period per
//     frame taken from the autocorrelation of an 8-second window, so that the
//     beat follows the few-percent drift of live playing. A pulse three to
//     every two beats (quarter-note triplets, dotted rhythms) gives way to
//     the slower one when the beats tracked at that land on a much stronger
//     envelope (1.3 times on average). The metrical level
//     is then checked on the beats themselves: if the points between beats
//     are stronger than the beats below 2.5 kHz the tempo doubles (to at most
//     190 BPM); it also doubles when that bar-length periodicity holds only
//     two beats and the points between them are busy too (a bar of four
//     beats tracked at half speed); failing that, if every other beat is
//     weak there the groove is half-time and the tempo halves; it also
//     doubles when kick and snare take turns within each beat (a backbeat
//     tracked at half speed) unless the sound between is a hi-hat or much
//     softer than the drum on the beat. When the local tempo holds within
//     3% and the beats sit on one rigid grid apart from half-beat slides (a
//     section that pushes the off-beat), the beats become the grid that
//     collects the most onset strength over the whole song. Where that
//     envelope rates the beats and the points halfway between alike, the
//     kick and the snare pick the phase (an open hat on every off-beat can
//     ring as loud as the beat). In a shuffle, beats found on the short note
//     before the beat move a third of a beat later. The reported tempo is
//     the least-squares fit of the beat times.
//   - Bars and time signature: for bars of 3 and 4 beats and every phase,
//     how much more chroma change (and, weighted a tenth as much, bass
//     onset) falls on the candidate downbeats than on other beats; 4 wins
//     unless 3 is clearly better. Bars hold whole groups of beats from the
//     first downbeat.
//   - Tatums: two per beat, or three when the onsets at the thirds of beats
//     outweigh those at the halves (swing, triplets).
//   - Segments: peaks of the onset envelope above a moving threshold, at
//     least 70 ms apart; segments tile [0, duration].
//   - Key and mode: Krumhansl-Kessler profiles correlated with the track's
//     chroma (each frame normalised).
//   - Sections: Foote novelty of a self-similarity of half-second blocks
//     (timbre and level), peaks at least 8 s apart, snapped to bars.
//
// # Units and definitions
//
// Times are seconds from the start of the track. Segment loudness
// (LoudnessStart, LoudnessMax) is the level of a 93 ms frame in dB relative
// to a full-scale sine (so 0 dB is a full-scale sine, -100 dB digital
// silence). Analysis.Loudness is the integrated loudness in LUFS and
// TruePeak the true peak in dBTP (see MeasureLoudness); both are floored at
// AbsoluteGate (-70) for silence.
//
// Pitches are the segment's mean chroma, C first, scaled so the strongest
// pitch class is 1.
//
// Timbre is a cepstrum of the segment's mean mel spectrum (40 bands,
// 30 Hz to 11 kHz, in dB), so it is comparable across tracks: Timbre[0] is
// the mean band level in dB plus 100 (0 for silence, about 40 to 80 for
// music); Timbre[k] for k >= 1 is -4/40 times the k-th DCT-II coefficient of
// the band levels, i.e. twice the amplitude in dB of the k-th cosine across
// the bands, sign chosen so that positive Timbre[1] means brighter. Values
// lie roughly within ±100, like the Echo Nest's.
//
// Section labels are "intro" (a first section more than 3 dB below the
// track), "outro" (the same at the end), "breakdown" (the same in between),
// "drop" (a section at least at the track's level, right after an intro or
// breakdown and more than 3 dB louder than it); other sections are not
// labelled. EndOfFadeIn and StartOfFadeOut are the first and last moments
// at which the one-second level comes within 10 dB of the track's 90th
// percentile level.
//
// Energy, in [0, 1], is 0.6 L + 0.4 D, where L maps the integrated loudness
// linearly from -30 LUFS (0) to -6 LUFS (1) and D is the segment rate
// divided by 8 per second, both clipped to [0, 1]: loud, busy tracks are
// energetic.
//
// Danceability, in [0, 1], is (0.35 S + 0.35 R + 0.3 C) (0.5 + 0.5 P),
// where S is the mean beat confidence (beat strength), R the regularity
// 1 - CV/0.1 of the inter-beat intervals (clipped; CV is their coefficient
// of variation), C the tempo confidence, and P a preference for tempi near
// 120 BPM, exp(-(log2(tempo/120)/0.5)^2 / 2). Tracks without beats score 0.
//
// Confidences are in [0, 1]: a beat's is its onset strength relative to
// the track's strong beats; a bar's the mean of its beats' scaled by the
// time-signature confidence; a segment's its onset strength relative to
// the strong onsets; the tempo's how far the winning tempo score stands
// above the median score.
package analysis
