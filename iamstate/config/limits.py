"""The bounds iamstate reads configuration within (pure: constants only).

Every file a configuration names is read within these limits, so that no input
(an alias bomb, a deeply nested document, a huge number, a special file) can stall
or crash a pipeline; going over one is a located configuration error.
"""

from __future__ import annotations

MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024
"""Largest YAML configuration file read (4 MiB, about 12,000 entities in one file)."""

MAX_DOCUMENT_FILE_BYTES = 256 * 1024
"""Largest ``document_file`` read (IAM's largest policy is 6,144 characters without whitespace)."""

MAX_METADATA_FILE_BYTES = 10_000_000
"""Largest text file read for a declaration, such as a SAML provider's ``metadata_file``
(IAM's own limit for a SAML metadata document, in characters)."""

MAX_NESTING_DEPTH = 64
"""Deepest nesting of mappings and lists in a YAML file or JSON document (IAM's own need about 10)."""

MAX_YAML_NODES = 1_000_000
"""Most values (scalars, lists, mappings, counted after aliases are expanded) in one YAML file."""

MAX_ALIAS_NODES = 200_000
"""Most values that aliases (``*name``) and merge keys (``<<``) may bring into one YAML file."""

MAX_NUMBER_CHARS = 100
"""Longest number, in characters, in a YAML file or JSON document."""
