"""The real-browser test is marked ``browser``: ``pytest -m browser`` runs only it.

``pytest -m "not browser"`` leaves it out (``make test`` does so when chromium is missing).
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives JupyterLab in Debian's chromium with playwright (slow, ~1-2 minutes)"
    )
