"""Ingest and answer inside a network namespace with no network at all: nothing may need one."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ARTICLE

QA = Path(sys.executable).parent / "qa"


def test_ingest_and_ask_with_no_network(tmp_path):
    assert shutil.which("unshare"), "util-linux 'unshare' is needed to prove offline operation"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    # The entry point itself must switch the model libraries offline: do not set it here.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    env["QA_DATA_DIR"] = str(tmp_path / "index")
    script = f"'{QA}' ingest '{corpus}' && '{QA}' ask --json 'How long is the Resht–Astara railway?'"
    result = subprocess.run(
        ["unshare", "--net", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout[result.stdout.index("{") :])
    assert "162" in answer["answer"]
