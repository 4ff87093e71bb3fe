"""Machine-readable plan output: the plan's JSON form, as is.

Pure: no boto3, typer or file I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from iamstate.model import Json


def render_json(doc: Mapping[str, Json]) -> str:
    """The plan's JSON form as stable, 2-space indented text with a final newline (pure).

    Keys keep the order of ``Plan.to_json()``; ``schemas/plan.schema.json`` describes it.
    """
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
