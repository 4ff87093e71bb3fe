"""``iamstate unlock``: clear an apply lock that a killed apply left behind."""

from __future__ import annotations

from iamstate.commands.shared import AwsOptions, CommandResult, connect, require_account
from iamstate.config import load_config
from iamstate.errors import ExitCode, IamstateError
from iamstate.model import Json


def unlock(path: str, aws: AwsOptions, *, force: bool) -> CommandResult:
    """Delete the apply lock of the configuration's account and stack.

    Without ``force`` only a lock that has expired, or that the caller itself holds
    (the same ARN: an apply of yours that was killed), is removed; another holder's
    live lock is refused, naming the holder.
    """
    from iamstate.aws.lock import delete_lock, read_lock, utc_now
    from iamstate.aws.session import aws_errors
    from iamstate.commands.shared import guard_identity
    from iamstate.lock import lock_arn

    config = load_config(path).config
    account_id = require_account(config)
    clients = connect(aws)
    with aws_errors("sts:GetCallerIdentity"):
        identity = clients.sts.get_caller_identity()
    caller = str(identity["Arn"])
    guard_identity(account_id)(str(identity["Account"]), caller)
    partition = caller.split(":")[1] if caller.startswith("arn:") else "aws"
    arn = lock_arn(partition, account_id, config.stack)
    holder = read_lock(clients.iam, arn)
    doc: dict[str, Json] = {"format_version": "1", "lock": arn, "holder": None, "released": False}
    if holder is None:
        return CommandResult(ExitCode.OK, f"No apply lock is held for stack '{config.stack}' ({arn}).\n", doc)
    now = utc_now()
    doc["holder"] = {"holder": holder.holder, "run_id": holder.run_id, "host": holder.host}
    if not force and not holder.expired(now) and holder.holder != caller:
        raise IamstateError(
            f"the apply lock of stack '{config.stack}' is {holder.describe(now)}, and you are {caller}. "
            "It has not expired, so an apply may still be running; pass --force once you are sure none is. "
            "Nothing was changed."
        )
    released = delete_lock(clients.iam, arn)
    doc["released"] = released
    verb = "Released" if released else "Found no longer"
    return CommandResult(
        ExitCode.OK,
        f"{verb} the apply lock of stack '{config.stack}' ({holder.describe(now)}).\n",
        doc,
    )
