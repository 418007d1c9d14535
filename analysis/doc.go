// Package analysis listens to a track and describes it: tempo, beats, bars
// and tatums, segments with timbre and pitch vectors, sections, key,
// loudness (ITU-R BS.1770-4) and energy, in the shape of the Echo Nest
// analysis that Forever.fm was built on.
package analysis
