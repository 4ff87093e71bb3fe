"""iamstate: keep AWS IAM in the state a Git repository declares."""

__version__ = "0.1.0"
