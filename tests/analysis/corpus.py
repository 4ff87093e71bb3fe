"""Shared helpers for the analysis tests: load a config folder and analyse it offline."""

from __future__ import annotations

import datetime
from pathlib import Path

from iamstate.analysis.account import AccountAnalysis, analyse
from iamstate.analysis.effective import AccountContext
from iamstate.analysis.managed import builtin_documents
from iamstate.config import load_config

NOW = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)
"""The evaluation time of every analysis test (never the clock)."""

CORPUS = Path(__file__).resolve().parent.parent / "escalation"


def analyse_config(path: Path) -> AccountAnalysis:
    """Load a config with the product's loader and analyse its desired state offline."""
    config = load_config(path).config
    context = AccountContext(config.account_id) if config.account_id else None
    return analyse(config.state, managed=builtin_documents(), now=NOW, context=context)
