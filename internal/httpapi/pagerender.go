package httpapi

import (
	"html"
	"strings"
)

// The pages are written by these functions rather than html/template:
// text/template, under html/template, looks methods up by name through
// reflection, which keeps the linker from dropping any exported method of
// any type in the binary; every HTTP function links this package, and each
// grew by about 5 MB (make bench, "each bootstrap ≤ 12 MiB"). Every value
// from outside the code goes through esc, in text and in double-quoted
// attributes alike; the stylesheet is ours and is allowed by its hash.

// esc escapes s for HTML text and double-quoted attribute values.
func esc(s string) string { return html.EscapeString(s) }

// pageWriter builds a page.
type pageWriter struct{ strings.Builder }

func (w *pageWriter) raw(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}

// head opens a page: its title and the one stylesheet, inlined (its hash
// is in the Content-Security-Policy).
func (w *pageWriter) head(title string) {
	w.raw("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
		"<meta name=\"referrer\" content=\"same-origin\">\n",
		"<title>", esc(title), "</title>\n<style>", pageCSS, "</style>\n</head>\n<body>\n<main>\n")
}

func (w *pageWriter) foot() { w.raw("</main>\n</body>\n</html>\n") }

// form opens a form posting to action with the CSRF token and the
// platform it acts on.
func (w *pageWriter) form(action, csrf, platform, class string) {
	w.raw("<form method=\"post\" action=\"", esc(action), "\"")
	if class != "" {
		w.raw(" class=\"", esc(class), "\"")
	}
	w.raw(">\n<input type=\"hidden\" name=\"csrf\" value=\"", esc(csrf), "\">\n")
	if platform != "" {
		w.raw("<input type=\"hidden\" name=\"platform\" value=\"", esc(platform), "\">\n")
	}
}

// result is the outcome region a page focuses on arrival.
func (w *pageWriter) result(class, role string, paragraphs ...string) {
	w.raw("<div id=\"result\" class=\"result ", esc(class), "\" role=\"", esc(role), "\" tabindex=\"-1\" autofocus>")
	for _, p := range paragraphs {
		w.raw("<p>", esc(p), "</p>")
	}
	w.raw("</div>\n")
}

// renderConnectPage is the hosted connect page.
func renderConnectPage(v connectView) []byte {
	var w pageWriter
	w.head(v.Title)
	w.raw("<h1>Connect your accounts</h1>\n<p>Connect the accounts below so the app can work with them for you. ",
		"Nothing is shared until you connect an account, and you can disconnect it here at any time.</p>\n")
	if r := v.Result; r != nil {
		w.result(r.Class, r.Role, r.Text)
	}
	for _, p := range v.Platforms {
		w.raw("<section aria-labelledby=\"p-", esc(p.ID), "\">\n<h2 id=\"p-", esc(p.ID), "\">", esc(p.Name), "</h2>\n")
		w.raw("<p class=\"status status-", esc(p.StatusClass), "\"><strong>Status:</strong> ", esc(p.Status), "</p>\n")
		w.raw("<p>", esc(p.Allows), "</p>\n")
		if p.Problem != "" {
			w.raw("<p class=\"problem\">", esc(p.Problem), "</p>\n")
		}
		if p.OAuth {
			w.form(v.Action, v.CSRF, p.ID, "")
			w.raw("<button type=\"submit\" name=\"do\" value=\"oauth\">", esc(p.OAuthLabel), "</button>\n</form>\n")
		}
		if k := p.Key; k != nil {
			w.form(v.Action, v.CSRF, p.ID, "")
			legend := "Connect " + p.Name + " with a key"
			if p.Connected {
				legend = "Replace the " + p.Name + " key"
			}
			w.raw("<fieldset>\n<legend>", esc(legend), "</legend>\n")
			w.raw("<p id=\"help-", esc(p.ID), "\" class=\"help\">", esc(k.Help), "</p>\n")
			for _, f := range k.Fields {
				w.raw("<label for=\"", esc(f.InputID), "\">", esc(f.Label), "</label>\n")
				attrs := "id=\"" + esc(f.InputID) + "\" name=\"cred." + esc(f.Name) + "\""
				tail := " autocomplete=\"off\" spellcheck=\"false\" aria-describedby=\"" + esc(f.HelpID) + "\""
				switch {
				case f.Multiline:
					w.raw("<textarea ", attrs, " rows=\"4\"", tail, "></textarea>\n")
				case f.Secret:
					w.raw("<input ", attrs, " type=\"password\"", tail, ">\n")
				default:
					w.raw("<input ", attrs, " type=\"text\"", tail, ">\n")
				}
			}
			label := "Connect " + p.Name
			if p.OAuth {
				label += " with this key"
			}
			w.raw("<button type=\"submit\" name=\"do\" value=\"key\">", esc(label), "</button>\n</fieldset>\n</form>\n")
		}
		if c := p.Choices; c != nil {
			w.form(v.Action, v.CSRF, p.ID, "")
			w.raw("<fieldset>\n<legend>Choose the ", esc(c.Noun), " to use</legend>\n")
			for _, o := range c.Options {
				checked := ""
				if o.Chosen {
					checked = " checked"
				}
				w.raw("<div class=\"choice\"><input type=\"radio\" id=\"", esc(o.InputID), "\" name=\"choice\" value=\"", esc(o.ID), "\"", checked, ">\n",
					"<label for=\"", esc(o.InputID), "\">", esc(o.Name), "</label></div>\n")
			}
			w.raw("<button type=\"submit\" name=\"do\" value=\"choose\">Use this ", esc(c.Noun), "</button>\n</fieldset>\n</form>\n")
		}
		if p.CanDisconnect {
			w.form(v.Action, v.CSRF, p.ID, "")
			w.raw("<button type=\"submit\" name=\"do\" value=\"disconnect\" class=\"secondary\">Disconnect ", esc(p.Name), "</button>\n</form>\n")
		}
		w.raw("</section>\n")
	}
	w.form(v.Action, v.CSRF, "", "done")
	done := "Done"
	if v.ReturnTo != "" {
		done = "Done, back to the app"
	}
	w.raw("<button type=\"submit\" name=\"do\" value=\"done\">", done, "</button>\n</form>\n")
	w.foot()
	return []byte(w.String())
}

// renderMessagePage is a short page: a heading and what to do next.
func renderMessagePage(v messageView) []byte {
	var w pageWriter
	w.head(v.Title)
	w.raw("<h1>", esc(v.Heading), "</h1>\n")
	w.result(v.Class, v.Role, v.Paragraphs...)
	w.foot()
	return []byte(w.String())
}
