"""Whole-account permission analysis: effective permissions, escalation paths, exposures, lint (pure).

Every module of this package is pure: plain functions over the model
(:class:`iamstate.model.State`) and the offline action catalogue, with no boto3 and
no file I/O; the evaluation time is passed in, never read from the clock.

- :mod:`~iamstate.analysis.resources`: which resources a pattern reaches (unscoped,
  self-targeting, scoped), and an ARN matcher with IAM's wildcards and variables;
- :mod:`~iamstate.analysis.conditions`: each condition entry as narrowing, not
  narrowing or never true; one reading of ``iam:PassedToService``;
- :mod:`~iamstate.analysis.effective`: what each principal may do, across all its
  policies, minus denies, within its boundary;
- :mod:`~iamstate.analysis.escalation`: the published escalation methods and the
  account as a graph of principals;
- :mod:`~iamstate.analysis.exposure`: Cloudsplaining's exposure classes;
- :mod:`~iamstate.analysis.managed`: the high-risk AWS-managed policies, offline;
- :mod:`~iamstate.analysis.lint`: checks of conditions and resources against the catalogue;
- :mod:`~iamstate.analysis.account`: all of it for one state at once.
"""
