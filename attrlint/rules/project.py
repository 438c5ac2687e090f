"""Project-wide rules (key governance) run after every file is analysed."""

from __future__ import annotations

RULES: list = []
PROJECT_CHECKS: list = []
