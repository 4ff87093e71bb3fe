"""``python -m iamstate``."""

from iamstate.cli import main

main()
