"""Home Assistant custom components shipped with clevercam (installed by HACS or by hand)."""
