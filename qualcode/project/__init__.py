"""Projects: a corpus, codebook versions, codings, memos and decisions in one SQLite file.

The Python API, the command line (``qualcode project``) and the coding app
(``qualcode serve``) share it.

- :class:`Project`: :meth:`~Project.create`, :meth:`~Project.open`, ``.corpus``,
  ``.codebook``, :meth:`~Project.codings`, coding, review, memos, import and export.
- :func:`import_path` and the ``export_*`` functions move a project to and from folders,
  ``results/`` of ``qualcode code``, ``.qdpx`` (memos as REFI ``Note`` s) and codings CSV.
- :func:`retrain`: re-train the coder on the accepted codings, re-code, and measure the
  learning curve on held-out human codings.
"""

from ._common import CODER_SETTINGS, STATUSES, ProjectError, priority_of
from ._exchange import (
    export_codings,
    export_folder,
    export_qdpx,
    import_codings,
    import_folder,
    import_path,
    import_qdpx,
    import_results,
)
from ._schema import SCHEMA_VERSION
from ._store import Project
from ._train import learning_curve, retrain

__all__ = [
    "CODER_SETTINGS",
    "SCHEMA_VERSION",
    "STATUSES",
    "Project",
    "ProjectError",
    "export_codings",
    "export_folder",
    "export_qdpx",
    "import_codings",
    "import_folder",
    "import_path",
    "import_qdpx",
    "import_results",
    "learning_curve",
    "priority_of",
    "retrain",
]
