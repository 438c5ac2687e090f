"""The linter: per-file analysis (`engine`), the project-wide phase (`project`), the rules
(`rules`), and the run around them (discovery, pool, cache, suppression, output)."""
