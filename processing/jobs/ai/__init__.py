"""Outside AI services behind the `ai_endpoint` kind: the providers' wire protocols (providers.py),
structured answers (answers.py) and the ready presets (presets.py)."""
