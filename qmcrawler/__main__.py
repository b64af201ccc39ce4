"""`python -m qmcrawler`: the command line."""

from qmcrawler.cli import main

if __name__ == "__main__":
    main()
