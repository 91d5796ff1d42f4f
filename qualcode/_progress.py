"""Progress bars: notebook widgets when ipywidgets is installed, plain text bars otherwise.

``tqdm.auto`` warns ("IProgress not found") in Jupyter when ipywidgets is missing; this
module picks the text bar silently instead.
"""

from __future__ import annotations

import importlib.util

__all__ = ["tqdm"]

if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:  # pragma: no cover - depends on the environment
    from tqdm.std import tqdm
