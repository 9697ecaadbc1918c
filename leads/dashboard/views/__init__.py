"""The dashboard's pages, by concern: `lists` (the lead list and its CSV), `detail` (a lead's
page and its panels), `actions` (status, owner, notes, facts, erasure), `takeover` (a rep in
the chat), `metrics`. Plain function views; `request.htmx` only chooses a page or a partial."""
