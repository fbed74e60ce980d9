"""The translation catalogue stays in step with the code.

(That the catalogue database's migrations build exactly its models is checked, on every
backend, in tests/test_catalogue.py.)
"""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from tests.conftest import ROOT


def test_every_interface_string_has_a_vietnamese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_", "-k", "gettext", "-k",
                    "ngettext:1,2", "-o", str(pot), str(ROOT)], check=True,
                   capture_output=True, cwd=ROOT)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot.open("rb"))
              if m.id}
    po = ROOT / "repository/web/translations/vi/LC_MESSAGES/messages.po"
    translated = {(m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(po.open("rb"))
                  if m.id and (m.string if isinstance(m.string, str) else m.string[0])}
    assert wanted - translated == set()
