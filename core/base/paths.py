"""Where the app keeps what it makes: runs, their models, caches. One folder, ``VP_HOME``.

``VP_HOME`` defaults to ``~/.vision-playground``. Nothing here is shipped: the
shipped models stay in ``assets/models`` and only ``train_all.sh`` writes there.
"""

from __future__ import annotations

from pathlib import Path

from core.base import settings

HOME_ENV = settings.VP_HOME.name
ROOT = Path(__file__).resolve().parents[2]  # the project folder: app.py, assets/, core/


def vp_home() -> Path:
    """The app's working folder (created on first use)."""
    path = Path(settings.VP_HOME.value()).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def trained_dir() -> Path:
    """Where ``python -m core train`` writes when no ``--out`` is given."""
    return vp_home() / "trained"


def cache_dir() -> Path:
    """Derived files that can be rebuilt at any time (decompressed data, downloaded artifacts)."""
    path = vp_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
