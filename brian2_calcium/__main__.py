"""``python -m brian2_calcium`` is the ``brian2-calcium`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
