"""Rules on temporary access: grants that come due and reviews that are overdue (pure).

They read the configuration as evaluated at the command's time (``--at``, or the
clock read once by the command): :attr:`~iamstate.model.DesiredConfig.as_of`, its
temporary grants and its ``review_by`` dates, and never read a clock themselves.
"""

AWS_TEMPORARY_ACCESS = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-use-temporary-credentials"
)
