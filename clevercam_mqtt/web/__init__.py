"""The web server: history page, settings, JSON API and the push web socket."""
