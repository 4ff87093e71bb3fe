"""Rules on roles' trust policies: who may assume a role, and on what conditions (pure)."""

ROLES_GUIDE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
