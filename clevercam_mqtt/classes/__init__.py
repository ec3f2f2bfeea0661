"""Learned classes: teach clevercam "our cat" or "garage open" from its own history.

`spec` (what a user defines), `training` (nearest centroids on embeddings, pure numpy),
`state` (a ROI's state decisions), `storage` (JSON + npz on disk, import/export) and
`manager` (the running sets, and the monitor's observer).
"""

from .manager import ClassesError, ClassSets
from .spec import ClassSetSpec
from .storage import ClassFileError

__all__ = ["ClassFileError", "ClassSetSpec", "ClassSets", "ClassesError"]
