"""Hidden tests, one package per assignment. They reach submissions only through the
``student`` fixture (see grade/plugin.py) and never ship in release/."""
