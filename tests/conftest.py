"""Fixtures shared by the service tests (tests/service) and the HA tests (tests/ha)."""
