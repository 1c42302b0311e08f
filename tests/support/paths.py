"""Where things are: the repository the tests run from, and where runs leave what they made."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # worker logs, screenshots
