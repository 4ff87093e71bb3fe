"""Rules the configuration loader enforces while it reads the YAML (pure)."""
