// Package eval scores music analysis against annotations with the standard
// measures of the MIR community, reproducing the mir_eval Python library
// (version 0.7) to floating-point precision: beat tracking (F-measure,
// Cemgil, Goto, P-score, the continuity measures CMLc/CMLt/AMLc/AMLt and
// information gain), onset detection, tempo detection, and structural
// segmentation (boundary hit rates and deviations, pairwise and Rand
// clustering scores, mutual information, conditional entropy and V-measure).
//
// Times are in seconds. Event lists (beats, onsets) are expected in
// increasing order, as mir_eval expects them; the Evaluate functions check
// their input and return an error where mir_eval would raise one, while the
// single measures accept anything without panicking.
//
// The package also reads the plain-text annotation formats mir_eval reads:
// one event per line, or "start end label" intervals, with # comments; and
// the beat grid of a Standard MIDI File (ReadMIDI), which is an exact
// annotation of audio rendered from it, or of a recording a rhythm-game
// chart was synchronised with; and the tempo and metre of an LMMS project
// (ReadLMMS), whose grid annotates LMMS's rendering of it.
package eval
