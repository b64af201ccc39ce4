"""`python -m qmcrawler`: the command line."""

from qmcrawler.cli.main import main

if __name__ == "__main__":
    main()
