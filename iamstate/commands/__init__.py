"""The commands: one module each, and :mod:`iamstate.commands.shared` for what they share.

Each command is a function that returns a
:class:`~iamstate.commands.shared.CommandResult` (stdout text, the JSON document for
``--out``, the exit code); :mod:`iamstate.cli` only wires options to them.
"""
