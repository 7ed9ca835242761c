package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// cookieName carries the session: an HMAC of the admin key, so the cookie
// never holds the key and changing the key ends every session.
const cookieName = "aligngate_ui"

// sessionMessage is what the session HMAC signs; fixed, so that replicas
// sharing a key accept each other's cookies.
const sessionMessage = "aligngate dashboard session v1"

func sessionToken(key string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sessionMessage))
	return hex.EncodeToString(mac.Sum(nil))
}

// keyMatches compares in constant time; hashing first makes the time
// independent of the lengths too.
func keyMatches(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// authed reports whether r carries the admin key as a bearer token or a
// valid session cookie.
func (d *Dashboard) authed(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		return ok && keyMatches(strings.TrimSpace(tok), d.cfg.AdminKey)
	}
	c, err := r.Cookie(cookieName)
	return err == nil && hmac.Equal([]byte(c.Value), []byte(d.session))
}

// requireAuth answers 401 to requests without the key.
func (d *Dashboard) requireAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authed(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="aligngate dashboard"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "admin key required"})
			return
		}
		h(w, r)
	}
}

// setSession sets (or, with an empty value, clears) the session cookie.
func setSession(w http.ResponseWriter, r *http.Request, value string) {
	c := &http.Cookie{
		Name: cookieName, Value: value, Path: "/ui", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !keyMatches(r.PostFormValue("key"), d.cfg.AdminKey) {
		d.loginPage(w, http.StatusUnauthorized, "That key is not the admin key.")
		return
	}
	setSession(w, r, d.session)
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	setSession(w, r, "")
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}
