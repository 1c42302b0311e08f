"""A process on the test settings leaves no darkroom-media-* or darkroom-prometheus-* folder in
the temp directory behind: it removes the ones it made when it exits."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

SHOW_DIRS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([str(settings.MEDIA_ROOT), settings.PROMETHEUS_MULTIPROC_DIR]))"
)


def test_the_test_settings_remove_their_temporary_dirs_at_exit(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MEDIA_ROOT", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", TMPDIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", SHOW_DIRS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    media, prometheus = json.loads(out.strip().splitlines()[-1])
    assert media.startswith(str(tmp_path)) and prometheus.startswith(str(tmp_path)), "made in the temp dir"
    assert not Path(media).exists() and not Path(prometheus).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_given_media_root_is_used_and_kept(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", TMPDIR=str(tmp_path), MEDIA_ROOT=str(media))
    out = subprocess.run(
        [sys.executable, "-c", SHOW_DIRS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out.strip().splitlines()[-1])[0] == str(media)
    assert media.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["media"]
