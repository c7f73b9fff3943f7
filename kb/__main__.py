"""`python -m kb` is the same as the `kb` command."""

from kb.cli import main

main()
