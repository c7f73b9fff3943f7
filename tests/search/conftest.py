"""Search fixtures live in tests/conftest.py (`search_root`), shared with the core and site tests."""
