"""The state of one ROI under a state-mode class set: pure decisions, testable alone."""

from __future__ import annotations

from dataclasses import dataclass

from .training import UNKNOWN


@dataclass
class RoiState:
    """What the ROI shows now, and a different verdict waiting for its confirmation.

    A new state needs two verdicts in a row (the second one is asked for on the next
    frame), so a single odd frame never flips it; an `unknown` verdict changes nothing.
    """

    state: str | None = None
    score: float = 0.0
    candidate: str | None = None
    last_check: float = float("-inf")
    checks: int = 0

    def update(self, verdict: str, score: float) -> bool:
        """Apply one verdict; True when the state changed (or became known)."""
        self.checks += 1
        if verdict == UNKNOWN:
            self.candidate = None
            return False
        if verdict == self.state:
            self.candidate, self.score = None, score
            return False
        if self.state is not None and self.candidate != verdict:
            self.candidate = verdict
            return False
        self.state, self.score, self.candidate = verdict, score, None
        return True

    def due(self, now: float, interval: float) -> bool:
        return self.candidate is not None or now - self.last_check >= interval
