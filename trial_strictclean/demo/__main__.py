"""
Run the demonstration suite under ``trial --reporter=strictclean``.

Some of its tests are dirty on purpose, so Trial says FAILED; this command
exits 0 when the reporter caught exactly those and let the clean ones pass.
"""

import os
import shutil
import subprocess
import sys
import tempfile

# The tests of trial_strictclean.demo.scenarios that are meant to be dirty.
EXPECTED_DIRTY = 4


def _child_env() -> dict:
    """The child writes to a pipe: tell it about our terminal."""
    env = dict(os.environ)
    try:
        tty = sys.stdout.isatty()
    except Exception:
        tty = False
    if tty:
        if not env.get("NO_COLOR"):
            env.setdefault("TRIAL_STRICTCLEAN_COLOR", "always")
        env.setdefault("COLUMNS", str(shutil.get_terminal_size().columns))
    return env


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="strictclean-demo-") as temp:
        command = [
            sys.executable,
            # Not "-m twisted.trial": on Twisted 22.10 that goes through
            # pkg_resources, which fails to find newer zope.interface releases.
            "-c",
            "from twisted.scripts.trial import run; run()",
            "--reporter=strictclean",
            f"--temp-directory={os.path.join(temp, '_trial_temp')}",
            "trial_strictclean.demo.scenarios",
        ]
        completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=_child_env())
    output = completed.stdout
    sys.stdout.write(output)
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    if completed.returncode == 1 and f"errors={EXPECTED_DIRTY}," in summary:
        print(
            f"\nThe demo went as designed: {EXPECTED_DIRTY} tests left the reactor "
            "dirty on purpose\nand were failed, each with where its leftover came "
            "from; the clean ones passed."
        )
        return 0
    print("\nThe demo did not go as designed: see the output above.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
