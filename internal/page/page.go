// Package page is the radio's web page: the listener's view of the mix,
// embedded in the binary so that a radio serves it with nothing to install
// and nothing loaded from elsewhere. It also shapes the data the page draws
// (each track's waveform peaks and beat grid) into the compact JSON it
// fetches.
package page

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var files embed.FS

// FS is the page's files (index.html, its script and style sheet), rooted
// at the page's own folder.
func FS() fs.FS {
	sub, err := fs.Sub(files, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Handler serves the page's files; a radio mounts it at "/".
func Handler() http.Handler {
	return http.FileServerFS(FS())
}
