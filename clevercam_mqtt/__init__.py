"""clevercam: camera events for Home Assistant."""

__version__ = "0.1.0"
