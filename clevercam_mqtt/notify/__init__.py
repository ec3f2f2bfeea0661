"""Email notifications: one mail per event sequence, with the best image of it attached.

`config` holds the settings, `templates` and `rules` the pure decisions, `email` builds and
sends one message, `sink` is the bus sink with its worker, `api` the test-mail endpoint.
"""
