"""What ``show`` needs, and only that: a saved plan read back, and findings as SARIF.

Kept apart from :mod:`iamstate.commands.shared` so that ``show``, which a pipeline runs
to post the comment from the file ``plan --out`` wrote, loads neither the configuration
loader, boto3 nor logging: it renders a file and ends. Only SARIF loads the rules, whose
texts describe each finding's rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from iamstate.errors import IamstateError
from iamstate.model import Json


def sarif(doc: Mapping[str, Json], files: Sequence[str]) -> str:
    """The findings of a plan's or validate's JSON form as SARIF, with paths relative to here."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import metadata as package_metadata

    from iamstate import __version__
    from iamstate.render.sarif import RuleText, render_sarif
    from iamstate.rules import RULES

    try:
        urls = package_metadata("iamstate").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    home = next((u.split(",", 1)[1].strip() for u in urls if u.lower().startswith("homepage,")), "")
    rules = {r.id: RuleText(r.id, r.summary, r.remedy, r.source, r.severity.value) for r in RULES.values()}
    return render_sarif(
        doc, rules, tool_version=__version__, root=str(Path.cwd()), files=files, information_uri=home
    )


MAX_SAVED_PLAN_BYTES = 64 * 1024 * 1024
"""A saved plan (or report) larger than this is refused before it is parsed."""


def read_plan_file(path: Path) -> dict[str, Json]:
    """The JSON document ``plan --out`` (or ``drift --out``) wrote to ``path``; IamstateError,
    naming the file, when it is missing, too large, not UTF-8 JSON or not an object."""
    import json

    not_a_plan = f"{path} is not a plan written by `iamstate plan --out`"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SAVED_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise IamstateError(f"saved plan {path} does not exist") from None
    except OSError as error:
        raise IamstateError(f"cannot read the saved plan {path}: {error.strerror}") from None
    if len(data) > MAX_SAVED_PLAN_BYTES:
        raise IamstateError(f"{not_a_plan}: it is larger than {MAX_SAVED_PLAN_BYTES // 2**20} MiB")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise IamstateError(f"{not_a_plan}: it is not UTF-8 text") from None
    except (ValueError, RecursionError) as error:
        raise IamstateError(f"{not_a_plan}: {str(error)[:200]}") from None
    if not isinstance(doc, dict):
        raise IamstateError(f"{not_a_plan}: it holds a JSON {type(doc).__name__}, not an object")
    return doc
