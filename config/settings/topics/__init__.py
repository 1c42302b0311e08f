"""The settings by topic, one module each; config/settings/base.py reads them in order."""
