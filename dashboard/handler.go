package dashboard

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

var loginTmpl = template.Must(template.ParseFS(assets, "assets/login.html"))

// routes builds the mux. Paths are absolute (/ui/...), so the proxy
// mounts the handler as it is at /ui and /ui/.
func (d *Dashboard) routes() http.Handler {
	static, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	mux.HandleFunc("GET /ui/{$}", d.index)
	// Assets hold no data, and the login page needs them.
	mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(static)))
	mux.HandleFunc("POST /ui/login", d.login)
	mux.HandleFunc("POST /ui/logout", d.logout)
	mux.HandleFunc("GET /ui/api/records", d.requireAuth(d.records))
	mux.HandleFunc("GET /ui/api/records/{id}", d.requireAuth(d.recordDetail))
	mux.HandleFunc("GET /ui/api/summary", d.requireAuth(d.summary))
	mux.HandleFunc("GET /ui/api/series", d.requireAuth(d.seriesJSON))
	return secure(mux)
}

// secure adds headers that keep the page from being framed, sniffed or
// fed scripts from elsewhere, and keeps its data out of caches.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// index serves the page to a logged-in browser, the login form otherwise.
func (d *Dashboard) index(w http.ResponseWriter, r *http.Request) {
	if !d.authed(r) {
		d.loginPage(w, http.StatusOK, "")
		return
	}
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

func (d *Dashboard) loginPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginTmpl.Execute(w, struct{ Error string }{msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
