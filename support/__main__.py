"""``python -m support``: the same command line as the ``support`` console script."""

from support.cli import main

if __name__ == "__main__":
    main()
