"""`python -m kb` is the same as the `kb` command."""

from kb.cli import main

if __name__ == "__main__":  # a spawned worker process imports this module again, and must not run the command
    main()
