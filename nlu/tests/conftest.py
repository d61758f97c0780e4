"""Runs inside .venv-rasa; the project root must be importable (knowledge.names, assistant.text)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
