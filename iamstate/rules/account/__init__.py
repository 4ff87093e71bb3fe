"""Rules on the account: the password policy, the caller, and what a plan deletes (pure).

All but ``password-policy-weak`` need the live account (plan and apply): the
caller's ARN, the owned live entities and the planned changes.
"""

CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
