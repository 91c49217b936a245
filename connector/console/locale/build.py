"""Compile the console's catalogs: ``python connector/console/locale/build.py`` runs ``msgfmt``
on every ``<lang>/LC_MESSAGES/kravsync.po`` (edit the .po files, then run this)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    for po in sorted(HERE.glob("*/LC_MESSAGES/kravsync.po")):
        subprocess.run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
        print(f"compiled {po.with_suffix('.mo').relative_to(HERE)}")
